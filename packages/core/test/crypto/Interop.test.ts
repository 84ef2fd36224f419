/**
 * Live interoperability with the peer libraries: @matrix-org/matrix-sdk-crypto-wasm (matrix-rust-sdk + vodozemac,
 * what Element Web uses) and matrix-js-sdk's own helpers.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import * as W from "@matrix-org/matrix-sdk-crypto-wasm"
import { Effect, Either, Layer, Redacted } from "effect"
import fc from "fast-check"
import { decodeRecoveryKey as jsDecodeRecoveryKey, encodeRecoveryKey as jsEncodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { deriveRecoveryKeyFromPassphrase } from "matrix-js-sdk/lib/crypto-api/key-passphrase.js"
import { calculateKeyCheck as jsCalculateKeyCheck } from "matrix-js-sdk/lib/secret-storage.js"
import jsDecryptSecret from "matrix-js-sdk/lib/utils/decryptAESSecretStorageItem.js"
import jsEncryptSecret from "matrix-js-sdk/lib/utils/encryptAESSecretStorageItem.js"
import * as S from "../../src/crypto/AesHmacSha2.js"
import { utf8Encode } from "../../src/crypto/Bytes.js"
import { canonicalJson } from "../../src/crypto/CanonicalJson.js"
import { publicKeyFromPrivateKey } from "../../src/crypto/Curve25519.js"
import * as M from "../../src/crypto/MegolmBackupV1.js"
import { deriveKeyFromPassphraseSync } from "../../src/crypto/Passphrase.js"
import { decodeRecoveryKey, encodeRecoveryKey } from "../../src/crypto/RecoveryKey.js"
import { signJson, verifyJsonSignature } from "../../src/crypto/SignedJson.js"
import * as CryptoBackend from "../../src/services/CryptoBackend.js"
import * as Entropy from "../../src/services/Entropy.js"
import { decodeBase64, encodeBase64 } from "../../src/schema/Base64.js"

const b64 = (text: string) => {
  const bytes = decodeBase64(text)
  if (bytes === undefined) throw new Error("bad test base64")
  return bytes
}
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
/** A realistic plaintext: JSON text with non-ASCII, as the wasm returns decrypted bytes as a (lossy) string. */
const plaintextJson = fc.record({ session_key: fc.base64String({ maxLength: 220 }), note: fc.string({ unit: "grapheme", maxLength: 60 }) }).map((o) => JSON.stringify(o))

beforeAll(async () => {
  await W.initAsync()
})

describe("interop: matrix-sdk-crypto-wasm (matrix-rust-sdk / vodozemac)", () => {
  it("derives the same backup public key", () => {
    fc.assert(
      fc.property(key32, (priv) => {
        const key = W.BackupDecryptionKey.fromBase64(encodeBase64(priv))
        expect(encodeBase64(publicKeyFromPrivateKey(priv))).toBe(key.megolmV1PublicKey.publicKeyBase64)
        key.free()
      }),
      { numRuns: 30 },
    )
    const random = W.BackupDecryptionKey.createRandomKey()
    expect(encodeBase64(publicKeyFromPrivateKey(b64(random.toBase64())))).toBe(random.megolmV1PublicKey.publicKeyBase64)
  })

  it("the wasm decryptV1 decrypts sessions we encrypt (pure functions and both backends)", async () => {
    const wasmKey = W.BackupDecryptionKey.createRandomKey()
    const pub = b64(wasmKey.megolmV1PublicKey.publicKeyBase64)
    fc.assert(
      fc.property(plaintextJson, key32, (text, eph) => {
        const data = M.encryptSessionData(pub, utf8Encode(text), eph)
        expect(wasmKey.decryptV1(data.ephemeral, data.mac, data.ciphertext)).toBe(text)
      }),
      { numRuns: 40 },
    )
    const texts = Array.from({ length: 25 }, (_, i) => JSON.stringify({ i, s: "é".repeat(i * 9) }))
    for (const backend of [CryptoBackend.layerNoble, CryptoBackend.layerWebCrypto]) {
      const encrypted = await Effect.runPromise(
        Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.encryptSessions(pub, texts.map(utf8Encode))).pipe(Effect.provide(backend.pipe(Layer.provide(Entropy.layer)))),
      )
      encrypted.forEach((d, i) => expect(wasmKey.decryptV1(d.ephemeral, d.mac, d.ciphertext)).toBe(texts[i]))
    }
  })

  it("we decrypt what the wasm's PkEncryption (vodozemac) encrypts, with both backends", async () => {
    const priv = new Uint8Array(32).fill(0x21)
    const encryptor = W.PkEncryption.fromKey(new W.Curve25519PublicKey(encodeBase64(publicKeyFromPrivateKey(priv))))
    const plaintexts = Array.from({ length: 30 }, (_, i) => utf8Encode(`{"n":${i},"k":"${"ü".repeat(i * 5)}"}`))
    const items = plaintexts.map((p) => {
      const m = encryptor.encrypt(p).toBase64()
      return { ephemeral: m.ephemeralKey, ciphertext: m.ciphertext, mac: m.mac }
    })
    items.forEach((item, i) => expect(Either.getOrThrow(M.decryptSessionData(priv, item))).toEqual(plaintexts[i]))
    for (const backend of [CryptoBackend.layerNoble, CryptoBackend.layerWebCrypto]) {
      const results = await Effect.runPromise(
        Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.decryptSessions(Redacted.make(priv), items)).pipe(Effect.provide(backend.pipe(Layer.provide(Entropy.layer)))),
      )
      expect(results.map((r) => Either.getOrThrow(r))).toEqual(plaintexts)
    }
  })

  it("the wasm rejects what we reject: a wrong MAC", () => {
    const wasmKey = W.BackupDecryptionKey.createRandomKey()
    const data = M.encryptSessionData(b64(wasmKey.megolmV1PublicKey.publicKeyBase64), utf8Encode("{}"), new Uint8Array(32).fill(5))
    const badMac = encodeBase64(new Uint8Array(8).fill(1))
    expect(() => wasmKey.decryptV1(data.ephemeral, badMac, data.ciphertext)).toThrow()
    expect(Either.isLeft(M.decryptSessionData(b64(wasmKey.toBase64()), { ...data, mac: badMac }))).toBe(true)
  })

  it("OlmMachine.sign signatures verify with ours; ours match its format", async () => {
    const machine = await W.OlmMachine.initialize(new W.UserId("@alice:example.org"), new W.DeviceId("ALICEDEV"))
    const authData = { public_key: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", extra: { "é": [1, 2] } }
    // OlmMachine.sign signs the given string as is; js-sdk's signObject hands it canonical JSON (another-json).
    const signatures: unknown = JSON.parse((await machine.sign(Either.getOrThrow(canonicalJson(authData)))).asJSON())
    const signed = { ...authData, signatures }
    const devicePub = b64(machine.identityKeys.ed25519.toBase64())
    expect(Either.isRight(verifyJsonSignature(signed, "@alice:example.org", "ed25519:ALICEDEV", devicePub))).toBe(true)
    const tampered = { ...signed, public_key: "AAAA" }
    const r = verifyJsonSignature(tampered, "@alice:example.org", "ed25519:ALICEDEV", devicePub)
    expect(Either.isLeft(r) && r.left.reason).toBe("Invalid")
    const ours = signJson(authData, "@alice:example.org", "ed25519:OTHER", new Uint8Array(32).fill(8))
    expect(Object.keys(ours.signatures)).toEqual(Object.keys(signatures ?? {}))
    machine.close()
  })
})

describe("interop: matrix-js-sdk", () => {
  it("recovery keys round-trip both ways", () => {
    fc.assert(
      fc.property(key32, (key) => {
        const ours = encodeRecoveryKey(key)
        expect(jsEncodeRecoveryKey(key)).toBe(ours)
        expect(jsDecodeRecoveryKey(ours)).toEqual(key)
        expect(Either.getOrThrow(decodeRecoveryKey(jsEncodeRecoveryKey(key) ?? ""))).toEqual(key)
      }),
      { numRuns: 50 },
    )
  })

  it("passphrase keys equal deriveRecoveryKeyFromPassphrase", async () => {
    for (const [passphrase, salt, iterations] of [["correct horse", "abcdefghijklmnopqrstuvwxyz012345", 1000], ["☃ snow", "S", 3]] as const) {
      const theirs = await deriveRecoveryKeyFromPassphrase(passphrase, salt, iterations)
      expect(deriveKeyFromPassphraseSync(passphrase, salt, iterations)).toEqual(theirs)
    }
  })

  it("4S key check and secrets are identical to js-sdk's, and each side decrypts the other's", async () => {
    await fc.assert(
      fc.asyncProperty(key32, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.string({ unit: "grapheme", maxLength: 80 }), async (key, iv, secret) => {
        const cleared = S.clearIvBit63(iv)
        const check = await jsCalculateKeyCheck(key, encodeBase64(cleared))
        const ours = S.calculateKeyCheck(key, iv)
        expect(ours.mac).toBe(check.mac.replace(/=+$/, ""))
        expect(S.checkKey(key, check)).toBe(true)
        const theirs = await jsEncryptSecret(secret, key, "m.megolm_backup.v1", encodeBase64(cleared))
        const mine = S.encryptSecret(key, "m.megolm_backup.v1", secret, iv)
        expect(mine).toEqual({ iv: theirs.iv.replace(/=+$/, ""), ciphertext: theirs.ciphertext.replace(/=+$/, ""), mac: theirs.mac.replace(/=+$/, "") })
        expect(Either.getOrThrow(S.decryptSecret(key, "m.megolm_backup.v1", theirs))).toBe(secret)
        expect(await jsDecryptSecret(mine, key, "m.megolm_backup.v1")).toBe(secret)
      }),
      { numRuns: 25 },
    )
  })

  it("decrypts a secret js-sdk encrypted with its own random IV", async () => {
    const key = new Uint8Array(32).fill(0x33)
    const theirs = await jsEncryptSecret("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", key, "m.megolm_backup.v1")
    expect(Either.getOrThrow(S.decryptSecret(key, "m.megolm_backup.v1", theirs))).toBe("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo")
  })
})
