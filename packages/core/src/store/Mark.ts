/**
 * The "backed up" rule every adapter runs inside its mark transaction, and the counter deltas it implies.
 * Rule: a stored copy is marked only if it is still the revision that was uploaded and not yet marked to that version.
 */
import type { RoomKeyRef } from "./Encoded.js"
import { CounterDelta, type StoredState } from "./Merge.js"

/** Synchronous access to the rows of an open mark transaction; `get` must see the marks made earlier in it. */
export interface MarkTarget {
  /** The stored state of a session (undefined: absent). */
  readonly get: (roomId: string, sessionId: string) => StoredState | undefined
  /** Records the session as backed up to `backedUpTo`. */
  readonly mark: (roomId: string, sessionId: string, backedUpTo: string) => void
}

/** True when the stored copy is the one `ref` uploaded and is not yet marked backed up to `version`. */
export const mayMark = (stored: StoredState | undefined, ref: RoomKeyRef, version: string): stored is StoredState =>
  stored !== undefined && stored.revision === ref.revision && stored.backedUpTo !== version

/** Marks every ref the rule allows, in order; returns how many rows changed and the counter changes. */
export const applyMark = (
  target: MarkTarget,
  version: string,
  refs: ReadonlyArray<RoomKeyRef>,
): { readonly changed: number; readonly delta: CounterDelta } => {
  const delta = new CounterDelta()
  let changed = 0
  for (const ref of refs) {
    const stored = target.get(ref.roomId, ref.sessionId)
    if (!mayMark(stored, ref, version)) continue
    target.mark(ref.roomId, ref.sessionId, version)
    delta.move(stored.backedUpTo, version)
    changed++
  }
  return { changed, delta }
}
