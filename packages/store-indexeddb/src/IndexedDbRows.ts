/**
 * Row helpers shared by the IndexedDB adapter's transactions: record keys and conversions, counter
 * updates inside a transaction, and reading the stored copies of a batch.
 */
import type { EncodedStore, StoreMerge } from "@matrix-backup/core/adapter"
import { onResult, type Guard } from "./IndexedDbRequest.js"
import { backedUpName, COUNTERS, type KeyRecord, NONE, toKeyRecord, TOTAL } from "./IndexedDbSchema.js"

/** A Map key for one session. */
export const id = (roomId: string, sessionId: string) => `${roomId}\u0000${sessionId}`
/** A stored record as the port's row (NONE becomes null). */
export const toRow = (r: KeyRecord): EncodedStore.EncodedRow => ({ ...r, backedUpTo: r.backedUpTo === NONE ? null : r.backedUpTo })
/** What the merge rule looks at in a stored record. */
export const stateOf = (r: KeyRecord): StoreMerge.StoredState => ({
  firstKnownIndex: r.firstKnownIndex,
  backedUpTo: r.backedUpTo === NONE ? null : r.backedUpTo,
  revision: r.revision,
})
/** The value of a counters-store record (0 when absent). */
export const counterValue = (value: unknown): number => {
  const n = typeof value === "object" && value !== null ? Reflect.get(value, "value") : undefined
  return typeof n === "number" ? n : 0
}

/** Adds the deltas to the counters store (read-modify-write inside the caller's transaction). */
export const applyDelta = (tx: IDBTransaction, guard: Guard, delta: StoreMerge.CounterDelta) => {
  const counters = tx.objectStore(COUNTERS)
  const changes: Array<[string, number]> = [[TOTAL, delta.total]]
  for (const [version, by] of delta.backedUp) changes.push([backedUpName(version), by])
  for (const [name, by] of changes) {
    if (by === 0) continue
    onResult(counters.get(name), guard, (value) => counters.put({ name, value: counterValue(value) + by }))
  }
}

/** Reads the stored copies of `ids` (one request each), then calls `then` with them. */
export const readAll = (
  store: IDBObjectStore,
  guard: Guard,
  refs: ReadonlyArray<{ readonly roomId: string; readonly sessionId: string }>,
  then: (found: Map<string, KeyRecord>) => void,
) => {
  const found = new Map<string, KeyRecord>()
  const wanted = new Map(refs.map((r) => [id(r.roomId, r.sessionId), [r.roomId, r.sessionId]]))
  let waiting = wanted.size
  if (waiting === 0) return then(found)
  for (const [key, path] of wanted) {
    onResult(store.get(path), guard, (value) => {
      if (value !== undefined) found.set(key, toKeyRecord(value))
      if (--waiting === 0) then(found)
    })
  }
}

