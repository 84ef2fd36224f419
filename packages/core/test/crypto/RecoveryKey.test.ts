import { describe, expect, it } from "@effect/vitest"
import { base58 } from "@scure/base"
import { Either } from "effect"
import fc from "fast-check"
import { decodeRecoveryKey, encodeRecoveryKey, looksLikeRecoveryKey } from "../../src/crypto/RecoveryKey.js"
import vectors from "../vectors/recovery-key.json" with { type: "json" }

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"))

describe("RecoveryKey", () => {
  // element-android RecoveryKeyTest.kt and matrix-rust-sdk backups/keys/decryption.rs (see test/vectors/README.md)
  for (const v of vectors.valid) {
    it(`encodes and decodes: ${v.source}`, () => {
      expect(encodeRecoveryKey(hex(v.key))).toBe(v.encoded)
      for (const text of [v.encoded, ...v.alternatives]) {
        expect(Either.getOrThrow(decodeRecoveryKey(text))).toEqual(hex(v.key))
        expect(looksLikeRecoveryKey(text)).toBe(true)
      }
    })
  }

  for (const v of vectors.invalid) {
    it(`rejects: ${v.source}`, () => {
      const result = decodeRecoveryKey(v.encoded)
      expect(Either.isLeft(result) && result.left.reason).toBe(v.reason)
      expect(looksLikeRecoveryKey(v.encoded)).toBe(false)
    })
  }

  it("strips every kind of whitespace, including tabs and non-breaking spaces", () => {
    const key = new Uint8Array(32).fill(0x42)
    const text = encodeRecoveryKey(key).replace(/ /g, "\t\u00a0\n ")
    expect(Either.getOrThrow(decodeRecoveryKey(`  ${text}\r\n`))).toEqual(key)
  })

  it("reports the decoded length for too-long input", () => {
    const bytes = new Uint8Array(36)
    bytes.set([0x8b, 0x01])
    const result = decodeRecoveryKey(base58.encode(bytes))
    expect(Either.isLeft(result) && [result.left.reason, result.left.expected, result.left.actual]).toEqual(["Length", 35, 36])
  })

  it("formats as 12 groups of 4 (48 base58 characters) starting with Es", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const text = encodeRecoveryKey(key)
        const groups = text.split(" ")
        expect(groups.every((g) => g.length <= 4 && g.length > 0)).toBe(true)
        expect(groups.slice(0, -1).every((g) => g.length === 4)).toBe(true)
        expect(text.startsWith("Es")).toBe(true)
        expect(Either.getOrThrow(decodeRecoveryKey(text))).toEqual(key)
      }),
    )
  })

  it("any single changed character is rejected with a typed reason", () => {
    const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), fc.integer({ min: 1, max: 57 }), (key, pos, shift) => {
        const compact = encodeRecoveryKey(key).replace(/ /g, "")
        const i = pos % compact.length
        const replaced = alphabet[(alphabet.indexOf(compact[i] ?? "1") + shift) % 58] ?? "1"
        const result = decodeRecoveryKey(compact.slice(0, i) + replaced + compact.slice(i + 1))
        // A changed character alters the big number; parity (or prefix/length) catches it.
        if (Either.isRight(result)) expect(result.right).not.toEqual(key)
        else expect(["Length", "Prefix", "Parity"]).toContain(result.left.reason)
      }),
    )
  })

  it("any flipped bit of the 35 decoded bytes is rejected", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 35 * 8 - 1 }), (key, bit) => {
        const bytes = base58.decode(encodeRecoveryKey(key).replace(/ /g, ""))
        bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (1 << (bit & 7))
        const result = decodeRecoveryKey(base58.encode(bytes))
        expect(Either.isLeft(result)).toBe(true)
      }),
    )
  })

  it("refuses to encode a key that is not 32 bytes", () => {
    expect(() => encodeRecoveryKey(new Uint8Array(31))).toThrow(RangeError)
  })
})
