/**
 * The CryptoBackend conformance suite: the behaviour every CryptoBackend shares, run against each implementation
 * (core's by @matrix-backup/integration, node:crypto by @matrix-backup/crypto-node): known-answer vectors, per-item
 * failure reasons equal to the @noble functions', round trips, PBKDF2 and key-export keys.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Either, Layer, Redacted } from "effect"
import fc from "fast-check"
import { pbkdf2Sync } from "node:crypto"
import { Base64, CryptoBackend, Entropy, KeyExportFile, MegolmBackupV1 as M } from "@matrix-backup/core"
import { Bytes, Curve25519 } from "@matrix-backup/core/adapter"
import keyExports from "./vectors/key-export.json" with { type: "json" }
import vectors from "./vectors/megolm-backup-v1.json" with { type: "json" }

const b64 = (text: string) => {
  const bytes = Base64.decodeBase64(text)
  if (bytes === undefined) throw new Error("bad test base64")
  return bytes
}
const reasons = (results: CryptoBackend.DecryptResults) => results.map((r) => (Either.isLeft(r) ? r.left.reason : "ok"))

/** Public keys of low order (all refused) and the same with the ignored top bit set. */
const lowOrder = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "0100000000000000000000000000000000000000000000000000000000000080",
]

/** Registers the suite's tests (vitest) for `backend`, under `name`. */
export const cryptoBackendSuite = (name: string, backend: Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy>) =>
  describe(`CryptoBackend (${name})`, () => {
    const run = <A>(f: (b: Context.Tag.Service<CryptoBackend.CryptoBackend>) => Effect.Effect<A>) =>
      Effect.runPromise(Effect.flatMap(CryptoBackend.CryptoBackend, f).pipe(Effect.provide(backend.pipe(Layer.provide(Entropy.layerSeeded(name))))))

    it("decrypts the known-answer vectors", async () => {
      // libolm tests/test_pk.cpp; matrix-rust-sdk backups/keys/decryption.rs; matrix-js-sdk test-data (vectors/README.md)
      for (const v of vectors.decrypt) {
        const [result] = await run((b) => b.decryptSessions(Redacted.make(b64(v.privateKeyBase64)), [v.sessionData]))
        expect(result !== undefined && Either.isRight(result)).toBe(true)
        if ("plaintext" in v) expect(new TextDecoder().decode(Either.getOrThrow(result ?? Either.left(0)))).toBe(v.plaintext)
      }
    })

    it("one result per item in order; bad items never fail the batch; reasons match the @noble functions", async () => {
      const priv = new Uint8Array(32).fill(1)
      const good = M.encryptSessionData(Curve25519.publicKeyFromPrivateKey(priv), Bytes.utf8Encode('{"k":1}'), new Uint8Array(32).fill(2))
      const items: Array<M.SessionData> = [
        good,
        { ...good, mac: "!!" },
        { ...good, mac: Base64.encodeBase64(new Uint8Array(8)) },
        { ...good, ciphertext: Base64.encodeBase64(new Uint8Array(17)) },
        ...lowOrder.map((h) => ({ ...good, ephemeral: Base64.encodeBase64(Buffer.from(h, "hex")) })),
        { ...good, ephemeral: Base64.encodeBase64(Uint8Array.from(b64(good.ephemeral), (x, i) => (i === 31 ? x ^ 0x80 : x))) },
        good,
      ]
      const results = await run((b) => b.decryptSessions(Redacted.make(priv), items))
      expect(reasons(results)).toEqual(items.map((item) => {
        const r = M.decryptSessionData(priv, item)
        return Either.isLeft(r) ? r.left.reason : "ok"
      }))
      expect(reasons(results)).toEqual(["ok", "BadBase64", "BadMac", "BadLength", ...lowOrder.map(() => "WeakSharedSecret"), "ok", "ok"])
      expect(await run((b) => b.decryptSessions(Redacted.make(priv), []))).toEqual([])
    })

    it("encrypts what the @noble functions and the other backend decrypt; deterministic under seeded Entropy", async () => {
      const priv = new Uint8Array(32).fill(3)
      const plaintexts = Array.from({ length: 40 }, (_, i) => Bytes.utf8Encode(JSON.stringify({ i, pad: "x".repeat(i * 7) })))
      const encrypted = await run((b) => b.encryptSessions(Curve25519.publicKeyFromPrivateKey(priv), plaintexts))
      expect(encrypted).toHaveLength(40)
      encrypted.forEach((data, i) => expect(Either.getOrThrow(M.decryptSessionData(priv, data))).toEqual(plaintexts[i]))
      expect(new Set(encrypted.map((d) => d.ephemeral)).size).toBe(40)
      const again = await run((b) => b.encryptSessions(Curve25519.publicKeyFromPrivateKey(priv), plaintexts))
      expect(again).toEqual(encrypted)
    })

    it("a batch of several hundred keeps input order, with bad items scattered through it", async () => {
      // Larger than the Web Crypto backend's window of slices in flight, so slices finish out of order.
      const priv = new Uint8Array(32).fill(4)
      const plaintexts = Array.from({ length: 600 }, (_, i) => Bytes.utf8Encode(JSON.stringify({ i, pad: "y".repeat(i % 97) })))
      const encrypted = await run((b) => b.encryptSessions(Curve25519.publicKeyFromPrivateKey(priv), plaintexts))
      encrypted.forEach((data, i) => expect(Either.getOrThrow(M.decryptSessionData(priv, data))).toEqual(plaintexts[i]))
      const items = encrypted.map((data, i) => (i % 37 === 5 ? { ...data, mac: Base64.encodeBase64(new Uint8Array(8).fill(i)) } : data))
      const results = await run((b) => b.decryptSessions(Redacted.make(priv), items))
      expect(results).toHaveLength(600)
      results.forEach((result, i) => {
        if (i % 37 === 5) expect(Either.isLeft(result) && result.left.reason).toBe("BadMac")
        else expect(Either.getOrThrow(result)).toEqual(plaintexts[i])
      })
    })

    it("round-trips random batches", async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), async (priv, plaintexts) => {
          const encrypted = await run((b) => b.encryptSessions(Curve25519.publicKeyFromPrivateKey(priv), plaintexts))
          const decrypted = await run((b) => b.decryptSessions(Redacted.make(priv), encrypted))
          expect(decrypted.map((r) => Either.getOrThrow(r))).toEqual(plaintexts)
        }),
        { numRuns: 15 },
      )
    })

    it("dies on a low-order backup public key (a caller bug)", async () => {
      const exit = await Effect.runPromiseExit(
        Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.encryptSessions(new Uint8Array(32), [new Uint8Array(1)])).pipe(
          Effect.provide(backend.pipe(Layer.provide(Entropy.layer))),
        ),
      )
      expect(exit._tag === "Failure" && exit.cause._tag).toBe("Die")
    })

    it("with system entropy, every session gets a fresh ephemeral key and decrypts with the pure functions", async () => {
      const priv = new Uint8Array(32).fill(0x42)
      const plaintexts = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`{"n":${i}}`))
      const encrypted = await Effect.runPromise(
        Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.encryptSessions(Curve25519.publicKeyFromPrivateKey(priv), plaintexts)).pipe(
          Effect.provide(backend.pipe(Layer.provide(Entropy.layer))),
        ),
      )
      expect(new Set(encrypted.map((d) => d.ephemeral)).size).toBe(plaintexts.length)
      expect(encrypted.map((d) => Either.getOrThrow(M.decryptSessionData(priv, d)))).toEqual(plaintexts)
    })

    it("PBKDF2-SHA-512 matches node:crypto, string salts as UTF-8", async () => {
      const key = await run((b) => b.pbkdf2Sha512(Redacted.make("correct horse ☃"), "NaCl+/=", 1000, 256))
      expect(Buffer.from(Redacted.value(key))).toEqual(pbkdf2Sync("correct horse ☃", Buffer.from("NaCl+/=", "utf8"), 1000, 32, "sha512"))
      const bytes = await run((b) => b.pbkdf2Sha512(Redacted.make("pw"), new Uint8Array(16).fill(7), 10, 512))
      expect(Buffer.from(Redacted.value(bytes))).toEqual(pbkdf2Sync("pw", Buffer.alloc(16, 7), 10, 64, "sha512"))
      expect(String(key)).not.toContain(Buffer.from(Redacted.value(key)).toString("hex").slice(0, 8))
    })

    it("derives Element key-export keys (K ‖ K') for KeyExportFile.decryptKeyExportWithKeys", async () => {
      // element-web MegolmExportEncryption-test.ts TEST_VECTORS (vectors/README.md)
      for (const v of keyExports.vectors) {
        const body = Either.getOrThrow(KeyExportFile.parseKeyExportFile(v.file))
        const derived = await run((b) => b.pbkdf2Sha512(Redacted.make(v.passphrase), body.salt, body.rounds, 512))
        const keys = KeyExportFile.splitKeyExportKeys(Redacted.value(derived))
        expect(Either.getOrThrow(KeyExportFile.decryptKeyExportWithKeys(body, keys))).toBe(v.plaintext)
      }
    })
  })

