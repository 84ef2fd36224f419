/**
 * The merge rule every adapter runs inside its upsert transaction, and the counter deltas it implies.
 * Rule: a lower `firstKnownIndex` wins; a tie keeps the stored copy, which is marked backed up to the
 * restore version when the incoming equal copy came from that version (PROTOCOL.md §8.4).
 */
import type { EncodedRoomKey, UpsertCounts } from "./Encoded.js"

/** The state of a stored copy that the merge looks at. */
export interface StoredState {
  readonly firstKnownIndex: number
  readonly backedUpTo: string | null
  readonly revision: number
}

/** What to do with one incoming key. */
export type MergeAction = "insert" | "replace" | "keep" | "mark"

/** Decides the fate of one incoming key against the stored copy. */
export const decideMerge = (
  stored: StoredState | undefined,
  incomingIndex: number,
  backedUpTo: string | null,
): MergeAction => {
  if (stored === undefined) return "insert"
  if (incomingIndex < stored.firstKnownIndex) return "replace"
  if (incomingIndex === stored.firstKnownIndex && backedUpTo !== null && stored.backedUpTo !== backedUpTo) {
    return "mark"
  }
  return "keep"
}

/** Changes to the row count and to the per-version "backed up" counters made by one transaction. */
export class CounterDelta {
  total = 0
  readonly backedUp = new Map<string, number>()

  /** A new row that is backed up to `to` (or to nothing). */
  insert(to: string | null): void {
    this.total++
    if (to !== null) this.add(to, 1)
  }

  /** A row whose `backedUpTo` goes from `from` to `to`. */
  move(from: string | null, to: string | null): void {
    if (from === to) return
    if (from !== null) this.add(from, -1)
    if (to !== null) this.add(to, 1)
  }

  /** Adds another transaction part's changes to these. */
  merge(other: CounterDelta): void {
    this.total += other.total
    for (const [version, by] of other.backedUp) this.add(version, by)
  }

  private add(version: string, by: number): void {
    this.backedUp.set(version, (this.backedUp.get(version) ?? 0) + by)
  }
}

/** Synchronous access to the rows of an open transaction. */
export interface UpsertTarget {
  /** Optional fast path: inserts the key if its session is absent and says whether it did. */
  readonly tryInsert?: (key: EncodedRoomKey, backedUpTo: string | null) => boolean
  /** The stored state of a session (undefined: absent). */
  readonly get: (roomId: string, sessionId: string) => StoredState | undefined
  /** Stores a new session, backed up to `backedUpTo` (null: pending). */
  readonly insert: (key: EncodedRoomKey, backedUpTo: string | null) => void
  /** Replaces a stored session with a better copy, as revision `revision`. */
  readonly replace: (key: EncodedRoomKey, backedUpTo: string | null, revision: number) => void
  /** Records the session as backed up to `backedUpTo`. */
  readonly mark: (roomId: string, sessionId: string, backedUpTo: string) => void
}

/**
 * Runs the merge for a batch, in order, so a key repeated in the batch is compared with its earlier copy.
 * `target.get` must see the writes made earlier in the same batch.
 */
export const applyUpsert = (
  target: UpsertTarget,
  keys: ReadonlyArray<EncodedRoomKey>,
  backedUpTo: string | null,
): { readonly counts: UpsertCounts; readonly delta: CounterDelta } => {
  const delta = new CounterDelta()
  let inserted = 0
  let replaced = 0
  let kept = 0
  for (const key of keys) {
    if (target.tryInsert?.(key, backedUpTo) === true) {
      delta.insert(backedUpTo)
      inserted++
      continue
    }
    const stored = target.get(key.roomId, key.sessionId)
    switch (decideMerge(stored, key.firstKnownIndex, backedUpTo)) {
      case "insert":
        target.insert(key, backedUpTo)
        delta.insert(backedUpTo)
        inserted++
        break
      case "replace":
        target.replace(key, backedUpTo, (stored?.revision ?? 0) + 1)
        delta.move(stored?.backedUpTo ?? null, backedUpTo)
        replaced++
        break
      case "mark":
        if (backedUpTo !== null) target.mark(key.roomId, key.sessionId, backedUpTo)
        delta.move(stored?.backedUpTo ?? null, backedUpTo)
        kept++
        break
      case "keep":
        kept++
    }
  }
  return { counts: { inserted, replaced, kept }, delta }
}
