import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { canonicalJson, compareCodePoints } from "../../src/crypto/CanonicalJson.js"
import vectors from "../vectors/canonical-json.json" with { type: "json" }

const reasonOf = (value: unknown) => {
  const result = canonicalJson(value)
  return Either.isLeft(result) ? result.left.reason : result.right
}

describe("CanonicalJson", () => {
  // https://spec.matrix.org/v1.16/appendices/#canonical-json (examples)
  for (const v of vectors.canonical) {
    it(`spec example ${v.input}`, () => {
      expect(Either.getOrThrow(canonicalJson(JSON.parse(v.input)))).toBe(v.output)
    })
  }

  it("escapes only quote, backslash and control characters, lowercase hex", () => {
    expect(Either.getOrThrow(canonicalJson({ s: "\"\\\b\t\n\f\r\u0000\u001f\u007f/é\u2028😀" }))).toBe(
      '{"s":"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\u007f/é\u2028😀"}',
    )
  })

  it("sorts keys by code point, not UTF-16 code unit", () => {
    // U+FF21 (one unit 0xFF21) sorts before U+1F600 (units 0xD83D 0xDE00) by code point.
    expect(Either.getOrThrow(canonicalJson({ "😀": 1, "Ａ": 2, a: 3 }))).toBe('{"a":3,"Ａ":2,"😀":1}')
    expect(compareCodePoints("\uff21", "😀")).toBeLessThan(0)
    expect(compareCodePoints("ab", "a")).toBeGreaterThan(0)
  })

  it("sorts at every depth and keeps array order", () => {
    expect(Either.getOrThrow(canonicalJson({ z: [{ b: 1, a: 2 }, 3], a: { d: null, c: true } }))).toBe(
      '{"a":{"c":true,"d":null},"z":[{"a":2,"b":1},3]}',
    )
  })

  it("integers only, within ±(2^53−1)", () => {
    expect(reasonOf({ a: 1.5 })).toBe("NotInteger")
    expect(reasonOf({ a: Number.NaN })).toBe("NotInteger")
    expect(reasonOf({ a: Number.POSITIVE_INFINITY })).toBe("NotInteger")
    expect(reasonOf({ a: 2 ** 53 })).toBe("OutOfRange")
    expect(reasonOf({ a: -(2 ** 53) })).toBe("OutOfRange")
    expect(reasonOf({ a: 2 ** 53 - 1, b: -(2 ** 53 - 1) })).toBe('{"a":9007199254740991,"b":-9007199254740991}')
    expect(reasonOf(-0)).toBe("0")
  })

  it("rejects lone surrogates, non-JSON values, class instances and cycles, naming the path", () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(reasonOf({ a: "\ud800" })).toBe("LoneSurrogate")
    expect(reasonOf({ a: 1n })).toBe("UnsupportedValue")
    expect(reasonOf({ a: [undefined] })).toBe("UnsupportedValue")
    expect(reasonOf({ a: new Date(0) })).toBe("UnsupportedValue")
    expect(reasonOf(cyclic)).toBe("Cycle")
    const result = canonicalJson({ x: { y: [0, 0.5] } })
    expect(Either.isLeft(result) && result.left.path).toBe("$.x.y[1]")
  })

  it("omits undefined properties like JSON.stringify, and allows shared (non-cyclic) references", () => {
    const shared = { k: 1 }
    expect(Either.getOrThrow(canonicalJson({ a: undefined, b: shared, c: shared }))).toBe('{"b":{"k":1},"c":{"k":1}}')
  })

  it("parses back to the same value and is idempotent", () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }).filter((v) => canonicalJson(v)._tag === "Right"), (value) => {
        const text = Either.getOrThrow(canonicalJson(value))
        expect(Either.getOrThrow(canonicalJson(JSON.parse(text)))).toBe(text)
        expect(text).not.toMatch(/^\s|\s$/)
      }),
    )
  })
})
