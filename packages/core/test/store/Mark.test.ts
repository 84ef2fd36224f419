// The mark rule every store runs: which stored copies may be marked backed up, and how the counters move.
import { describe, expect, it } from "@effect/vitest"
import { applyMark, type MarkTarget, mayMark } from "../../src/store/Mark.js"
import type { StoredState } from "../../src/store/Merge.js"

const ref = (sessionId: string, revision = 1) => ({ roomId: "!r", sessionId, revision })

/** A Map-backed target that records the marks it was asked for. */
const tableOf = (entries: Record<string, StoredState>) => {
  const rows = new Map(Object.entries(entries))
  const marked: Array<string> = []
  const target: MarkTarget = {
    get: (_roomId, sessionId) => rows.get(sessionId),
    mark: (_roomId, sessionId, backedUpTo) => {
      const row = rows.get(sessionId)
      if (row !== undefined) rows.set(sessionId, { ...row, backedUpTo })
      marked.push(sessionId)
    },
  }
  return { target, marked }
}

describe("Mark", () => {
  it("mayMark: only the uploaded revision, only when not already marked to the version", () => {
    const stored = { firstKnownIndex: 0, backedUpTo: null, revision: 2 }
    expect(mayMark(stored, ref("s", 2), "1")).toBe(true)
    expect(mayMark(stored, ref("s", 1), "1")).toBe(false)
    expect(mayMark({ ...stored, backedUpTo: "1" }, ref("s", 2), "1")).toBe(false)
    expect(mayMark({ ...stored, backedUpTo: "0" }, ref("s", 2), "1")).toBe(true)
    expect(mayMark(undefined, ref("s", 2), "1")).toBe(false)
  })

  it("applyMark marks what the rule allows, once each, and moves the per-version counters", () => {
    const { target, marked } = tableOf({
      fresh: { firstKnownIndex: 0, backedUpTo: null, revision: 1 },
      older: { firstKnownIndex: 0, backedUpTo: "1", revision: 1 },
      done: { firstKnownIndex: 0, backedUpTo: "2", revision: 1 },
      replaced: { firstKnownIndex: 0, backedUpTo: null, revision: 3 },
    })
    const refs = [ref("fresh"), ref("fresh"), ref("older"), ref("done"), ref("replaced", 2), ref("absent")]
    const { changed, delta } = applyMark(target, "2", refs)
    expect(changed).toBe(2)
    expect(marked).toEqual(["fresh", "older"])
    expect(delta.total).toBe(0)
    expect(Object.fromEntries(delta.backedUp)).toEqual({ "1": -1, "2": 2 })
  })
})
