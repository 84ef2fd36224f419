/**
 * The IndexedDB upsert: one transaction that adds new sessions, merges existing ones with core's rule
 * and updates counters and the restore checkpoint.
 */
import type { BackupStore } from "@matrix-backup/core"
import type { EncodedStore } from "@matrix-backup/core/adapter"
import { StoreMerge } from "@matrix-backup/core/adapter"
import { onResult, type Guard } from "./IndexedDbRequest.js"
import { applyDelta, id, readAll, stateOf } from "./IndexedDbRows.js"
import { CHECKPOINTS, type KeyRecord, NONE, ROOM_KEYS, toKeyRecord } from "./IndexedDbSchema.js"

/** Runs core's merge rule for `keys` (in order) against the copies in `found`, queuing the writes. */
const mergeInto = (
  store: IDBObjectStore,
  found: Map<string, KeyRecord>,
  keys: ReadonlyArray<EncodedStore.EncodedRoomKey>,
  backedUpTo: string | null,
) => {
  const flag = backedUpTo ?? NONE
  const write = (record: KeyRecord) => {
    found.set(id(record.roomId, record.sessionId), record)
    store.put(record)
  }
  return StoreMerge.applyUpsert(
    {
      get: (roomId, sessionId) => {
        const record = found.get(id(roomId, sessionId))
        return record === undefined ? undefined : stateOf(record)
      },
      insert: (k) => write({ ...k, backedUpTo: flag, revision: 1 }),
      replace: (k, _b, revision) => write({ ...k, backedUpTo: flag, revision }),
      mark: (roomId, sessionId, b) => {
        const record = found.get(id(roomId, sessionId))
        if (record !== undefined) write({ ...record, backedUpTo: b })
      },
    },
    keys,
    backedUpTo,
  )
}

/**
 * A key that appears once in the batch is first `add`ed: a new session then costs one request, and
 * only an existing one (ConstraintError, cancelled so the transaction goes on) is read and merged.
 * Keys repeated in the batch are read first and merged in batch order.
 */
export const upsertBody =
  (keys: ReadonlyArray<EncodedStore.EncodedRoomKey>, backedUpTo: string | null, checkpoint: BackupStore.Checkpoint | null) =>
  (tx: IDBTransaction, guard: Guard) => {
    const store = tx.objectStore(ROOM_KEYS)
    const times = new Map<string, number>()
    for (const k of keys) times.set(id(k.roomId, k.sessionId), (times.get(id(k.roomId, k.sessionId)) ?? 0) + 1)
    const once = keys.filter((k) => times.get(id(k.roomId, k.sessionId)) === 1)
    const repeated = keys.filter((k) => times.get(id(k.roomId, k.sessionId)) !== 1)
    const delta = new StoreMerge.CounterDelta()
    const counts = { inserted: 0, replaced: 0, kept: 0 }
    const account = (result: ReturnType<typeof mergeInto>) => {
      counts.inserted += result.counts.inserted
      counts.replaced += result.counts.replaced
      counts.kept += result.counts.kept
      delta.merge(result.delta)
    }
    let outstanding = once.length + 1
    const finish = () => {
      if (--outstanding > 0) return
      applyDelta(tx, guard, delta)
      if (checkpoint === null) return
      const checkpoints = tx.objectStore(CHECKPOINTS)
      for (const roomId of checkpoint.rooms) checkpoints.put({ version: checkpoint.version, roomId })
    }
    readAll(store, guard, repeated, (found) => {
      account(mergeInto(store, found, repeated, backedUpTo))
      finish()
    })
    for (const k of once) addOrMerge(store, guard, k, backedUpTo, account, finish)
    return () => counts
  }

const addOrMerge = (
  store: IDBObjectStore,
  guard: Guard,
  key: EncodedStore.EncodedRoomKey,
  backedUpTo: string | null,
  account: (result: ReturnType<typeof mergeInto>) => void,
  finish: () => void,
) => {
  const request = store.add({ ...key, backedUpTo: backedUpTo ?? NONE, revision: 1 })
  request.onsuccess = guard(() => {
    const delta = new StoreMerge.CounterDelta()
    delta.insert(backedUpTo)
    account({ counts: { inserted: 1, replaced: 0, kept: 0 }, delta })
    finish()
  })
  request.onerror = (event) => {
    if (request.error?.name !== "ConstraintError") return
    event.preventDefault()
    event.stopPropagation()
    onResult(store.get([key.roomId, key.sessionId]), guard, (value) => {
      const found = new Map<string, KeyRecord>()
      if (value !== undefined) found.set(id(key.roomId, key.sessionId), toKeyRecord(value))
      account(mergeInto(store, found, [key], backedUpTo))
      finish()
    })
  }
}

