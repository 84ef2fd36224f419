// The splitter against the native JSON.parse (and the token-level parser) on arbitrary documents, cut into chunks
// at arbitrary byte offsets: the same entries, and a failure exactly when the document is not valid JSON of the
// right shape.
import { describe, expect, it } from "@effect/vitest"
import { Ids, KeyBackupData } from "@matrix-backup/core"
import { Either, Schema } from "effect"
import fc from "fast-check"
import { RoomKeySplitter } from "../src/RoomKeySplitter.js"
import { RoomKeyParser } from "../src/RoomKeyStream.js"
import type { PushParser, Scope } from "../src/RoomKeyStream.js"
import { keyBackupData } from "./support.js"

const ALL: Scope = { _tag: "All" }
const ROOM: Scope = { _tag: "Room", roomId: Ids.RoomId.make("!only:x") }
const decode = Schema.decodeUnknownEither(KeyBackupData.KeyBackupData)
const WHITESPACE = [" ", "\n", "\t", "\r", "  \n\t"]

/** Renders JSON with whitespace drawn from `spaces` and, with `escapeAll`, every non-ASCII unit and `/` escaped. */
const render = (value: unknown, spaces: ReadonlyArray<string>, escapeAll: boolean): string => {
  let turn = 0
  const space = () => (spaces.length === 0 ? "" : (spaces[turn++ % spaces.length] ?? ""))
  const text = (s: string) =>
    escapeAll
      ? JSON.stringify(s).replace(/[^\x20-\x7e]|\//g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      : JSON.stringify(s)
  const go = (v: unknown): string => {
    if (Array.isArray(v)) return `[${space()}${v.map((e) => go(e)).join(`${space()},${space()}`)}${space()}]`
    if (typeof v === "object" && v !== null) {
      const fields = Object.entries(v).map(([k, e]) => `${text(k)}${space()}:${space()}${go(e)}`)
      return `{${space()}${fields.join(`${space()},${space()}`)}${space()}}`
    }
    return typeof v === "string" ? text(v) : JSON.stringify(v)
  }
  return `${space()}${go(value)}${space()}`
}

/** Feeds `bytes` cut at `cuts` (byte offsets, anywhere, even inside a UTF-8 sequence). */
const run = (parser: PushParser, bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const entries: Array<readonly [string, string, unknown]> = []
  let failure: string | undefined
  const take = (parsed: ReturnType<PushParser["end"]>) => {
    for (const e of parsed.entries) entries.push([e.roomId, e.sessionId, Either.isRight(e.data) ? e.data.right : "Left"])
    failure ??= parsed.failure
  }
  let from = 0
  for (const to of [...offsets, bytes.length]) {
    take(parser.write(bytes.subarray(from, to)))
    from = to
  }
  take(parser.end())
  return { entries, failure }
}

/** What the entries must be, read from JSON.parse's tree; undefined when the body is not a valid document. */
const expected = (text: string, scope: Scope) => {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return undefined
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
  const rooms: Array<[string, unknown]> = scope._tag === "Room" ? [[scope.roomId, doc]] : isObject(doc) && isObject(doc.rooms) ? Object.entries(doc.rooms) : []
  if (!isObject(doc) || (scope._tag === "All" && !isObject(doc.rooms))) return undefined
  const entries: Array<readonly [string, string, unknown]> = []
  for (const [roomId, room] of rooms) {
    if (!isObject(room) || !isObject(room.sessions)) return undefined
    for (const [sessionId, data] of Object.entries(room.sessions)) {
      const decoded = decode(data)
      entries.push([roomId, sessionId, Either.isRight(decoded) ? decoded.right : "Left"])
    }
  }
  return entries
}

const byId = (entries: ReadonlyArray<readonly [string, string, unknown]>) =>
  [...entries].sort(([r1, s1], [r2, s2]) => (r1 + "\u0000" + s1 < r2 + "\u0000" + s2 ? -1 : 1))

// Characters that matter to a splitter come often: quotes, backslashes, brackets, astral and lone surrogates.
const unit = fc.oneof(
  fc.constantFrom('"', "\\", "/", "{", "}", "[", "]", ",", ":", " ", "\n", "\u0000", "\u2028", "\ud83d\ude00", "\ud800", "\u00e9"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
)
const keyText = fc.string({ unit, maxLength: 8 })
const anyValue = fc.jsonValue({ maxDepth: 3, stringUnit: unit })
const session = fc.oneof(fc.constant(keyBackupData()), fc.nat(5).map((i) => keyBackupData(i)), anyValue)
const sessions = fc.dictionary(keyText, session, { maxKeys: 5 })
const room = fc.record({ sessions, extra: fc.option(anyValue, { nil: undefined }) }, { requiredKeys: ["sessions"] })
const allBody = fc.record({ rooms: fc.dictionary(keyText, room, { maxKeys: 4 }), next_batch: anyValue }, { requiredKeys: ["rooms"] })
const layout = fc.record({
  spaces: fc.array(fc.constantFrom("", ...WHITESPACE), { maxLength: 6 }),
  escapeAll: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
})
const encoder = new TextEncoder()
// What the bytes say: a lone surrogate cut out of a pair reaches the wire as U+FFFD.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true })

const check = (scope: Scope, text: string, cuts: ReadonlyArray<number>) => {
  const bytes = encoder.encode(text)
  const ours = run(new RoomKeySplitter(scope), bytes, cuts)
  const want = expected(decoder.decode(bytes), scope)
  if (want === undefined) {
    expect(ours.failure).toBeDefined()
  } else {
    expect(ours.failure).toBeUndefined()
    expect(byId(ours.entries)).toEqual(byId(want))
  }
  return ours
}

describe("RoomKeySplitter", () => {
  it("reads every well-formed body as JSON.parse does, whatever the whitespace, escapes and chunk cuts", () => {
    fc.assert(fc.property(allBody, layout, (body, { spaces, escapeAll, cuts }) => void check(ALL, render(body, spaces, escapeAll), cuts)), { numRuns: 400 })
    fc.assert(fc.property(sessions, layout, (body, { spaces, escapeAll, cuts }) => void check(ROOM, render({ sessions: body }, spaces, escapeAll), cuts)), { numRuns: 200 })
  })

  it("fails exactly the bodies JSON.parse rejects or that are wrongly shaped, truncated or damaged anywhere", () => {
    const damaged = fc.tuple(allBody, layout, fc.nat(), fc.constantFrom("", "x", "{", "}", "[", "]", '"', "\\", ",", ":", "\ud83d", "\u00e9"), fc.boolean())
    fc.assert(
      fc.property(damaged, ([body, { spaces, escapeAll, cuts }, at, insert, truncate]) => {
        const whole = render(body, spaces, escapeAll)
        const cut = at % (whole.length + 1)
        check(ALL, truncate ? whole.slice(0, cut) : whole.slice(0, cut) + insert + whole.slice(cut), cuts)
      }),
      { numRuns: 600 },
    )
    // Any JSON text at all: only an object of the right shape is a body.
    fc.assert(fc.property(fc.json({ maxDepth: 3, stringUnit: unit }), layout, (text, { cuts }) => void check(ALL, text, cuts)), { numRuns: 300 })
  })

  it("agrees with the token-level parser on entries and on failure", () => {
    fc.assert(
      fc.property(allBody, layout, fc.nat(), fc.boolean(), (body, { spaces, escapeAll, cuts }, at, truncate) => {
        const whole = render(body, spaces, escapeAll)
        const bytes = encoder.encode(truncate ? whole.slice(0, at % (whole.length + 1)) : whole)
        const ours = run(new RoomKeySplitter(ALL), bytes, cuts)
        const theirs = run(new RoomKeyParser(ALL), bytes, cuts)
        expect(ours.failure === undefined).toBe(theirs.failure === undefined)
        // The token parser also emits a number or literal cut by the end of the body ("12" of "123"); we do not.
        const extra = theirs.entries.slice(ours.entries.length)
        expect(ours.entries).toEqual(theirs.entries.slice(0, ours.entries.length))
        expect(extra.length === 0 || (extra.length === 1 && extra[0]?.[2] === "Left" && ours.failure !== undefined)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it("splits a surrogate pair and an escape across chunks", () => {
    const good = keyBackupData()
    const text = `{"rooms":{"!😀:x":{"sessions":{"a\\ud83d\\ude00\\"b":${JSON.stringify(good)}}}}}`
    const bytes = encoder.encode(text)
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(run(new RoomKeySplitter(ALL), bytes, [cut, cut + 1, cut + 3])).toEqual({ entries: [["!😀:x", 'a😀"b', decode(good).pipe(Either.getOrThrow)]], failure: undefined })
    }
  })

  it("names the shape fault without quoting values", () => {
    const cases: Array<[string, string]> = [
      ['{"rooms": {"!r": {"sessions": {"a": "c2VjcmV0"}, "x": 1}}, "next": [1]}', ""],
      ['{"rooms": {"!r": {"sessions": "c2VjcmV0"}}}', '"sessions" is not an object'],
      ['{"rooms": {"!r": {"sessions": {}}}} 1', "content after the end of the document"],
      ['{"rooms": {"!r": {"sessions": {"a": c2VjcmV0}}}}', "invalid JSON"],
    ]
    for (const [text, failure] of cases) {
      const result = run(new RoomKeySplitter(ALL), encoder.encode(text), [])
      expect(result.failure ?? "").toBe(failure)
    }
  })
})
