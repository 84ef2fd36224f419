import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { concatBytes, constantTimeEqual, isAllZero, utf8Decode, utf8Encode, wipe } from "../../src/crypto/Bytes.js"

describe("Bytes", () => {
  it("constantTimeEqual agrees with element-wise equality", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)))
        expect(constantTimeEqual(a, a.slice())).toBe(true)
      }),
    )
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false)
  })

  it("utf8Decode is strict, utf8Encode round-trips", () => {
    expect(Either.isLeft(utf8Decode(Uint8Array.of(0xff)))).toBe(true)
    expect(Either.isLeft(utf8Decode(Uint8Array.of(0xed, 0xa0, 0x80)))).toBe(true)
    expect(Either.getOrThrow(utf8Decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)))).toBe("\ufeffA")
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(Either.getOrThrow(utf8Decode(utf8Encode(s)))).toBe(s)
      }),
    )
  })

  it("concatBytes, wipe and isAllZero", () => {
    const joined = concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))
    expect(joined).toEqual(Uint8Array.of(1, 2, 3))
    expect(isAllZero(joined)).toBe(false)
    wipe(joined)
    expect(joined).toEqual(new Uint8Array(3))
    expect(isAllZero(joined)).toBe(true)
  })
})
