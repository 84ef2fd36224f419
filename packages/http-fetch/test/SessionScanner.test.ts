// The session scanner against the native parser: for any backup body, split into any chunks, it finds exactly
// the sessions JSON.parse sees, with the same ids; it refuses what JSON.parse refuses and never throws.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { SessionScanner } from "../src/SessionScanner.js"

const ALL = ["rooms", undefined, "sessions"]
const text = fc.string({ unit: fc.constantFrom(..."ab\"\\/{}[],: \n\u00e9\u2603+="), maxLength: 12 })
const json = fc.jsonValue({ maxDepth: 3 })
const session = fc.record({
  first_message_index: fc.nat(),
  is_verified: fc.boolean(),
  session_data: fc.record({ ephemeral: text, ciphertext: text, mac: text, "odd \"}] key": json }),
})
const backup = fc.dictionary(
  text,
  fc.record({ sessions: fc.dictionary(text, fc.oneof(session, json), { maxKeys: 4 }), extra: fc.option(json) }),
  { maxKeys: 4 },
)
const body = fc.tuple(backup, json, fc.constantFrom(0, 2, undefined)).map(([rooms, extra, indent]) => JSON.stringify({ before: extra, rooms, after: extra }, null, indent))
const utf8 = (s: string) => new TextEncoder().encode(s)

/** Feeds `bytes` cut at `cuts`; returns every session found and the failure. */
const scan = (bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const scanner = new SessionScanner(ALL)
  const found: Array<{ path: ReadonlyArray<string>; value: unknown }> = []
  let from = 0
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b).filter((c) => c > 0 && c < bytes.length)) {
    found.push(...scanner.write(bytes.subarray(from, cut)))
    from = cut
  }
  found.push(...scanner.write(bytes.subarray(from)))
  found.push(...scanner.end())
  return { found, failure: scanner.failure }
}

const expected = (document: string) => {
  const parsed = JSON.parse(document) as { rooms: Record<string, { sessions: Record<string, unknown> }> }
  return Object.entries(parsed.rooms).flatMap(([room, { sessions }]) => Object.entries(sessions).map(([id, value]) => ({ path: [room, id], value })))
}

describe("SessionScanner", () => {
  it("finds what JSON.parse finds, however the body is cut into chunks", () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }), (document, cuts) => {
        const bytes = utf8(document)
        const { found, failure } = scan(bytes, cuts)
        expect(failure).toBeUndefined()
        expect(found).toEqual(expected(document))
      }),
      { numRuns: 300 },
    )
  })

  it("a body cut short fails as truncated, after only the complete sessions before the cut", () => {
    fc.assert(
      fc.property(body, fc.nat(), (document, at) => {
        const bytes = utf8(document)
        const cut = at % bytes.length
        const { found, failure } = scan(bytes.subarray(0, cut), [cut >> 1])
        expect(failure).toBe("truncated JSON")
        const all = expected(document)
        expect(found).toEqual(all.slice(0, found.length))
      }),
      { numRuns: 300 },
    )
  })

  it("refuses corrupted bodies that JSON.parse refuses, and never throws", () => {
    fc.assert(
      fc.property(body, fc.nat(), fc.constantFrom(..."{}[]\",:x\\ 0"), (document, at, replacement) => {
        const i = at % document.length
        const corrupted = document.slice(0, i) + replacement + document.slice(i + 1)
        let valid = true
        try {
          JSON.parse(corrupted)
        } catch {
          valid = false
        }
        const { failure } = scan(utf8(corrupted), [i])
        if (!valid) expect(failure).toBeDefined()
      }),
      { numRuns: 500 },
    )
  })

  it("names the shape problems without quoting values", () => {
    const cases: Array<[string, string]> = [
      ["", "truncated JSON"],
      ["[]", "the body is not a JSON object"],
      ['{"rooms": {}} {}', "content after the end of the document"],
      ['{"rooms": {"!r": {"sessions": {}}}, "rooms": 5}', '"rooms" is not an object'],
      ['{"rooms": {"!r": []}}', '"<room>" is not an object'],
      ['{"rooms": {"!r": {"sessions": {"s": {"secret": "x"}}, "sessions": 1}}}', '"sessions" is not an object'],
      ['{"rooms": {"!r": {"sessions": {"s": {"secret": tru}}}}}', "invalid JSON"],
      ['{"rooms": {"!r": {"sessions": {"s": {"secret": "\u0001"}}}}}', "invalid JSON"],
    ]
    for (const [document, failure] of cases) expect([document, scan(utf8(document), []).failure]).toEqual([document, failure])
  })

  it("rejects bytes that are not UTF-8", () => {
    const bytes = utf8('{"rooms": {"!r": {"sessions": {"s": {"k": "xx"}}}}}')
    bytes[bytes.indexOf(0x78)] = 0xff
    expect(scan(bytes, []).failure).toBe("invalid JSON")
  })
})
