import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { webcrypto } from "node:crypto"
import * as S from "../../src/crypto/AesHmacSha2.js"
import { decodeBase64, encodeBase64 } from "../../src/schema/Base64.js"

const b64 = (text: string) => {
  const bytes = decodeBase64(text)
  if (bytes === undefined) throw new Error("bad test base64")
  return bytes
}
const reasonOf = (result: Either.Either<string, S.SecretStorageCryptoError>) => (Either.isLeft(result) ? result.left.reason : result.right)
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const iv16 = fc.uint8Array({ minLength: 16, maxLength: 16 })

/** An independent implementation with Web Crypto, as js-sdk does it (AES-CTR with a 64-bit counter). */
const webEncrypt = async (key: Uint8Array, name: string, text: string, iv: Uint8Array) => {
  const base = await webcrypto.subtle.importKey("raw", key, "HKDF", false, ["deriveBits"])
  const bits = new Uint8Array(
    await webcrypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(8), info: new TextEncoder().encode(name) }, base, 512),
  )
  const aes = await webcrypto.subtle.importKey("raw", bits.slice(0, 32), "AES-CTR", false, ["encrypt"])
  const mac = await webcrypto.subtle.importKey("raw", bits.slice(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  const ct = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, aes, new TextEncoder().encode(text)))
  return { iv: encodeBase64(iv), ciphertext: encodeBase64(ct), mac: encodeBase64(new Uint8Array(await webcrypto.subtle.sign("HMAC", mac, ct))) }
}

describe("AesHmacSha2 (4S)", () => {
  it("matches an independent Web Crypto implementation (8-byte zero salt, 64-bit counter)", async () => {
    await fc.assert(
      fc.asyncProperty(key32, iv16, fc.string({ maxLength: 200 }), fc.constantFrom("m.megolm_backup.v1", "m.cross_signing.master", ""), async (key, iv, text, name) => {
        const ours = S.encryptSecret(key, name, text, iv)
        expect(ours).toEqual(await webEncrypt(key, name, text, S.clearIvBit63(iv)))
        expect(reasonOf(S.decryptSecret(key, name, ours))).toBe(text)
      }),
      { numRuns: 40 },
    )
  })

  it("clears bit 63 of the IV and leaves the caller's array alone", () => {
    const iv = new Uint8Array(16).fill(0xff)
    const out = S.encryptSecret(new Uint8Array(32), "n", "x", iv)
    expect(b64(out.iv)[8]).toBe(0x7f)
    expect(iv[8]).toBe(0xff)
    expect(out.mac).toHaveLength(43)
  })

  it("decrypts padded base64 fields", () => {
    const key = new Uint8Array(32).fill(4)
    const out = S.encryptSecret(key, "m.megolm_backup.v1", "secret", new Uint8Array(16))
    const pad = (s: string) => s + "=".repeat((4 - (s.length % 4)) % 4)
    expect(reasonOf(S.decryptSecret(key, "m.megolm_backup.v1", { iv: pad(out.iv), ciphertext: pad(out.ciphertext), mac: pad(out.mac) }))).toBe("secret")
  })

  it("wrong key, wrong name, bad base64, bad IV length, invalid UTF-8 are typed", () => {
    const key = new Uint8Array(32).fill(4)
    const out = S.encryptSecret(key, "a", "secret", new Uint8Array(16))
    expect(reasonOf(S.decryptSecret(new Uint8Array(32), "a", out))).toBe("BadMac")
    expect(reasonOf(S.decryptSecret(key, "b", out))).toBe("BadMac")
    expect(reasonOf(S.decryptSecret(key, "a", { ...out, iv: "%%" }))).toBe("BadBase64")
    expect(reasonOf(S.decryptSecret(key, "a", { ...out, mac: "%%" }))).toBe("BadBase64")
    expect(reasonOf(S.decryptSecret(key, "a", { ...out, ciphertext: "%%" }))).toBe("BadBase64")
    expect(reasonOf(S.decryptSecret(key, "a", { ...out, iv: encodeBase64(new Uint8Array(12)) }))).toBe("BadLength")
    expect(reasonOf(S.decryptSecret(key, "a", { ...out, mac: out.mac.slice(0, 20) }))).toBe("BadMac")
  })

  it("invalid UTF-8 under a valid MAC is BadUtf8", async () => {
    // Build the ciphertext of the single byte 0xff with Web Crypto, MAC it, and hand it to decryptSecret.
    const key = new Uint8Array(32).fill(6)
    const base = await webcrypto.subtle.importKey("raw", key, "HKDF", false, ["deriveBits"])
    const bits = new Uint8Array(await webcrypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode("n") }, base, 512))
    const aes = await webcrypto.subtle.importKey("raw", bits.slice(0, 32), "AES-CTR", false, ["encrypt"])
    const hmacKey = await webcrypto.subtle.importKey("raw", bits.slice(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    const iv = new Uint8Array(16)
    const ct = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, aes, Uint8Array.of(0xff)))
    const mac = new Uint8Array(await webcrypto.subtle.sign("HMAC", hmacKey, ct))
    expect(reasonOf(S.decryptSecret(key, "n", { iv: encodeBase64(iv), ciphertext: encodeBase64(ct), mac: encodeBase64(mac) }))).toBe("BadUtf8")
  })

  it("key check: accepts the right key (padded or not), rejects any other key and any flipped bit", () => {
    fc.assert(
      fc.property(key32, iv16, fc.nat(), (key, iv, bit) => {
        const check = S.calculateKeyCheck(key, iv)
        expect(S.checkKey(key, check)).toBe(true)
        expect(S.checkKey(key, { iv: `${check.iv}==`, mac: `${check.mac}=` })).toBe(true)
        const other = key.slice()
        other[bit % 32] = (other[bit % 32] ?? 0) ^ (1 << (bit % 8))
        expect(S.checkKey(other, check)).toBe(false)
        const mac = b64(check.mac)
        mac[bit % 32] = (mac[bit % 32] ?? 0) ^ (1 << (bit % 8))
        expect(S.checkKey(key, { ...check, mac: encodeBase64(mac) })).toBe(false)
        const ivBytes = b64(check.iv)
        ivBytes[bit % 16] = (ivBytes[bit % 16] ?? 0) ^ (1 << (bit % 8))
        expect(S.checkKey(key, { ...check, iv: encodeBase64(ivBytes) })).toBe(false)
      }),
      { numRuns: 50 },
    )
  })

  it("key check refuses malformed descriptions", () => {
    const key = new Uint8Array(32)
    const check = S.calculateKeyCheck(key, new Uint8Array(16))
    expect(S.checkKey(key, { ...check, iv: "!!" })).toBe(false)
    expect(S.checkKey(key, { ...check, mac: check.mac.slice(0, 40) })).toBe(false)
    expect(S.checkKey(key, { ...check, iv: encodeBase64(new Uint8Array(15)) })).toBe(false)
  })

  it("any flipped bit in iv, ciphertext or mac of a secret is a typed Left", () => {
    fc.assert(
      fc.property(key32, fc.string({ minLength: 1, maxLength: 60 }), fc.nat(), fc.constantFrom("iv", "ciphertext", "mac"), (key, text, bit, field) => {
        const out = S.encryptSecret(key, "m.megolm_backup.v1", text, new Uint8Array(16).fill(1))
        const bytes = b64(out[field])
        const i = bit % (bytes.length * 8)
        bytes[i >> 3] = (bytes[i >> 3] ?? 0) ^ (1 << (i & 7))
        const result = S.decryptSecret(key, "m.megolm_backup.v1", { ...out, [field]: encodeBase64(bytes) })
        // The MAC does not cover the IV (spec), so a changed IV decrypts to different text; never to the secret.
        if (field === "iv") expect(Either.isRight(result) ? result.right : "").not.toBe(text)
        else expect(Either.isLeft(result) && result.left.reason).toBe("BadMac")
      }),
      { numRuns: 100 },
    )
  })
})
