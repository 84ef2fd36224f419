import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { pbkdf2Sync } from "node:crypto"
import * as P from "../../src/crypto/Passphrase.js"

describe("Passphrase", () => {
  it("PBKDF2-HMAC-SHA-512 over the UTF-8 salt string matches node:crypto", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 50 }), fc.constantFrom(256, 512, 128), (passphrase, salt, iterations, bits) => {
        const expected = pbkdf2Sync(Buffer.from(passphrase, "utf8"), Buffer.from(salt, "utf8"), iterations, bits / 8, "sha512")
        expect(Buffer.from(P.deriveKeyFromPassphraseSync(passphrase, salt, iterations, bits))).toEqual(expected)
      }),
      { numRuns: 40 },
    )
  })

  it("does not base64-decode the salt, and defaults to 256 bits", () => {
    const salt = "AQIDBAUGBwgJCgsMDQ4PEA"
    const key = P.deriveKeyFromPassphraseSync("pass", salt, 3)
    expect(key).toHaveLength(32)
    expect(Buffer.from(key)).toEqual(pbkdf2Sync("pass", Buffer.from(salt, "utf8"), 3, 32, "sha512"))
  })

  it("rejects nonsensical parameters", () => {
    expect(() => P.deriveKeyFromPassphraseSync("p", "s", 0)).toThrow(RangeError)
    expect(() => P.deriveKeyFromPassphraseSync("p", "s", 1.5)).toThrow(RangeError)
    expect(() => P.deriveKeyFromPassphraseSync("p", "s", 1, 12)).toThrow(RangeError)
  })

  it("salts and key IDs are 32 characters of [A-Za-z0-9], all characters reachable", () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(fc.uint8Array({ minLength: P.RANDOM_BYTES_FOR_STRING, maxLength: P.RANDOM_BYTES_FOR_STRING }), (bytes) => {
        const salt = P.generateSalt(bytes)
        expect(salt).toMatch(/^[A-Za-z0-9]{32}$/)
        expect(P.generateKeyId(bytes)).toBe(salt)
        for (const c of salt) seen.add(c)
      }),
      { numRuns: 200 },
    )
    expect(seen.size).toBe(62)
    expect(() => P.generateSalt(new Uint8Array(63))).toThrow(RangeError)
  })
})
