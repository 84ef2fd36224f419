import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import fc from "fast-check"
import { Base64Bytes, Base64BytesOfLength, decodeBase64, encodeBase64 } from "../../src/schema/Base64.js"

describe("Base64", () => {
  it("writes unpadded and reads both padded and unpadded", () => {
    const bytes = new TextEncoder().encode("matrix")
    expect(encodeBase64(bytes)).toBe("bWF0cml4")
    expect(encodeBase64(new Uint8Array([1, 2]))).toBe("AQI")
    expect(decodeBase64("AQI")).toEqual(new Uint8Array([1, 2]))
    expect(decodeBase64("AQI=")).toEqual(new Uint8Array([1, 2]))
  })

  it("reads a last character with non-zero unused bits as Node does (the spec's signing seed has one)", () => {
    const seed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
    expect(decodeBase64(seed)).toEqual(new Uint8Array(Buffer.from(seed, "base64")))
    expect(decodeBase64("AQJ")).toEqual(new Uint8Array([1, 2]))
    expect(decodeBase64("AQJ=")).toEqual(new Uint8Array([1, 2]))
  })

  it("rejects url-safe, stray characters and impossible lengths", () => {
    expect(decodeBase64("A-_B")).toBeUndefined()
    expect(decodeBase64("AQ I")).toBeUndefined()
    expect(decodeBase64("AQIDB")).toBeUndefined()
    expect(decodeBase64("AQI==")).toBeUndefined()
    expect(decodeBase64("A===")).toBeUndefined()
  })

  it("round-trips any bytes against Node's encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64(bytes)
        expect(text).toBe(Buffer.from(bytes).toString("base64").replace(/=+$/, ""))
        expect(decodeBase64(text)).toEqual(bytes)
        expect(decodeBase64(Buffer.from(bytes).toString("base64"))).toEqual(bytes)
      }),
    )
  })

  it("decodes through the schema and checks lengths", () => {
    expect(Schema.decodeUnknownSync(Base64Bytes)("AQI")).toEqual(new Uint8Array([1, 2]))
    const key = Schema.decodeUnknownEither(Base64BytesOfLength(32))
    expect(Either.isRight(key("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo"))).toBe(true)
    expect(Either.isLeft(key("AQI"))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(Base64Bytes)("%%%"))).toBe(true)
  })

  it("accepts exactly the standard alphabet in valid lengths, and decodes as Node does", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AQgw+/9z=-_ .\u00e9\u0100"), maxLength: 30 }), (text) => {
        const unpadded = text.replace(/={1,2}$/, "")
        const valid = /^[A-Za-z0-9+/]*$/.test(unpadded) && unpadded.length % 4 !== 1 && (unpadded === text || text.length % 4 === 0)
        const decoded = decodeBase64(text)
        expect(decoded !== undefined).toBe(valid)
        if (decoded !== undefined) expect(Buffer.from(decoded)).toEqual(Buffer.from(unpadded, "base64"))
      }),
      { numRuns: 2000 },
    )
  })
})
