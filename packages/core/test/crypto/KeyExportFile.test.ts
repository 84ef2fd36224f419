import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import * as K from "../../src/crypto/KeyExportFile.js"
import vectors from "../vectors/key-export.json" with { type: "json" }

const reasonOf = (result: Either.Either<string, K.KeyExportError>) => (Either.isLeft(result) ? result.left.reason : result.right)
const params = (rounds = 10) => ({ salt: new Uint8Array(16).fill(1), iv: new Uint8Array(16).fill(0xff), rounds })

describe("KeyExportFile", () => {
  // element-web test/unit-tests/utils/MegolmExportEncryption-test.ts TEST_VECTORS (see test/vectors/README.md)
  for (const v of vectors.vectors) {
    it(`decrypts Element's vector "${v.plaintext.slice(0, 12)}"`, () => {
      expect(reasonOf(K.decryptKeyExport(v.file, v.passphrase))).toBe(v.plaintext)
      expect(reasonOf(K.decryptKeyExport(v.file.replace(/\n/g, "\r\n"), v.passphrase))).toBe(v.plaintext)
      expect(reasonOf(K.decryptKeyExport(v.file, `${v.passphrase}x`))).toBe("BadMac")
    })
  }

  it("format errors: header, trailer, too short, base64", () => {
    expect(reasonOf(K.decryptKeyExport("-----", ""))).toBe("Format")
    expect(reasonOf(K.decryptKeyExport(`${K.KEY_EXPORT_HEADER}\n-----`, ""))).toBe("Format")
    expect(reasonOf(K.decryptKeyExport(vectors.tooShort, ""))).toBe("Format")
    expect(reasonOf(K.decryptKeyExport(`${K.KEY_EXPORT_HEADER}\n***\n${K.KEY_EXPORT_TRAILER}`, ""))).toBe("Format")
    const short = `${K.KEY_EXPORT_HEADER}\n${Buffer.alloc(68, 1).toString("base64")}\n${K.KEY_EXPORT_TRAILER}`
    const parsed = K.parseKeyExportFile(short)
    expect(Either.isLeft(parsed) && parsed.left.detail).toBe("Invalid file: too short")
  })

  it("rejects other versions", () => {
    const file = K.encryptKeyExport("[]", "pw", params())
    const body = Buffer.from(file.split("\n").slice(1, -2).join(""), "base64")
    body[0] = 2
    const text = `${K.KEY_EXPORT_HEADER}\n${body.toString("base64")}\n${K.KEY_EXPORT_TRAILER}\n`
    expect(reasonOf(K.decryptKeyExport(text, "pw"))).toBe("Version")
  })

  it("writes Element's layout: 96-character lines, bit 63 of the IV cleared, rounds big-endian", () => {
    const file = K.encryptKeyExport("x".repeat(300), "pw", params(1000))
    const lines = file.trimEnd().split("\n")
    expect(lines[0]).toBe(K.KEY_EXPORT_HEADER)
    expect(lines.at(-1)).toBe(K.KEY_EXPORT_TRAILER)
    expect(lines.slice(1, -2).every((l) => l.length === 96)).toBe(true)
    const body = Either.getOrThrow(K.parseKeyExportFile(file))
    expect(body.iv[8]).toBe(0x7f)
    expect(body.rounds).toBe(1000)
    expect(body.ciphertext).toHaveLength(300)
  })

  it("round-trips any text with any passphrase; wrong passphrase is BadMac", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ minLength: 1, unit: "grapheme" }), (text, passphrase) => {
        const file = K.encryptKeyExport(text, passphrase, params(2))
        expect(reasonOf(K.decryptKeyExport(file, passphrase))).toBe(text)
        expect(reasonOf(K.decryptKeyExport(file, `${passphrase}!`))).toBe("BadMac")
      }),
      { numRuns: 30 },
    )
  })

  it("any flipped bit in the body is rejected with a typed Left", () => {
    const file = K.encryptKeyExport('[{"session_id":"s"}]', "pw", params(2))
    const body = Buffer.from(file.split("\n").slice(1, -2).join(""), "base64")
    fc.assert(
      fc.property(fc.nat({ max: body.length * 8 - 1 }), (bit) => {
        const copy = Buffer.from(body)
        copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7))
        // Flipping the rounds field can make PBKDF2 slow; keep those small by skipping the high bytes.
        if (bit >> 3 >= 33 && bit >> 3 <= 35) return
        const text = `${K.KEY_EXPORT_HEADER}\n${copy.toString("base64")}\n${K.KEY_EXPORT_TRAILER}`
        const result = K.decryptKeyExport(text, "pw")
        expect(Either.isLeft(result)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it("decrypts with separately derived keys (the pieces a Web Crypto backend uses)", () => {
    const file = K.encryptKeyExport("hello", "pw", params(3))
    const body = Either.getOrThrow(K.parseKeyExportFile(file))
    const keys = K.deriveKeyExportKeysSync("pw", body.salt, body.rounds)
    expect(reasonOf(K.decryptKeyExportWithKeys(body, keys))).toBe("hello")
  })
})
