import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { makeSessionExport, parseSessionExport, SESSION_EXPORT_LENGTH } from "../../src/crypto/SessionExport.js"
import { encodeBase64 } from "../../src/schema/Base64.js"
import vectors from "../vectors/megolm-backup-v1.json" with { type: "json" }

const reasonOf = (input: string | Uint8Array) => {
  const result = parseSessionExport(input)
  return Either.isLeft(result) ? result.left.reason : "ok"
}

describe("SessionExport", () => {
  // matrix-js-sdk spec/test-utils/test-data/index.ts MEGOLM_SESSION_DATA: the session ID is the export's Ed25519 key
  it("parses js-sdk's exported session", () => {
    const session = vectors.decrypt[2]?.plaintextCanonicalOf
    if (session === undefined) throw new Error("vector missing")
    const parsed = Either.getOrThrow(parseSessionExport(session.session_key))
    expect(parsed.firstKnownIndex).toBe(0)
    expect(parsed.ratchet).toHaveLength(128)
    expect(encodeBase64(parsed.signingKey)).toBe(session.session_id)
    expect(session.session_key).toHaveLength(220)
    expect(makeSessionExport(parsed.firstKnownIndex, parsed.ratchet, parsed.signingKey)).toBe(session.session_key)
  })

  it("round-trips any index, ratchet and key, as base64 or bytes", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.uint8Array({ minLength: 128, maxLength: 128 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (index, ratchet, key) => {
        const text = makeSessionExport(index, ratchet, key)
        expect(text).toHaveLength(220)
        expect(Either.getOrThrow(parseSessionExport(text))).toEqual({ firstKnownIndex: index, ratchet, signingKey: key })
        expect(Either.getOrThrow(parseSessionExport(Buffer.from(text, "base64"))).firstKnownIndex).toBe(index)
      }),
    )
  })

  it("rejects bad base64, other versions and other lengths", () => {
    const good = new Uint8Array(SESSION_EXPORT_LENGTH)
    good[0] = 1
    expect(reasonOf(good)).toBe("ok")
    expect(reasonOf("***")).toBe("BadBase64")
    expect(reasonOf(new Uint8Array(0))).toBe("Version")
    expect(reasonOf(Uint8Array.of(2, ...good.subarray(1)))).toBe("Version")
    expect(reasonOf(good.subarray(0, 164))).toBe("Length")
    expect(reasonOf(Uint8Array.of(...good, 0))).toBe("Length")
    // The m.room_key sharing format (version 2, with a signature) is not an export.
    expect(reasonOf(Uint8Array.of(2, ...new Uint8Array(228)))).toBe("Version")
  })

  it("refuses out-of-range construction", () => {
    expect(() => makeSessionExport(-1, new Uint8Array(128), new Uint8Array(32))).toThrow(RangeError)
    expect(() => makeSessionExport(2 ** 32, new Uint8Array(128), new Uint8Array(32))).toThrow(RangeError)
    expect(() => makeSessionExport(0, new Uint8Array(127), new Uint8Array(32))).toThrow(RangeError)
  })
})
