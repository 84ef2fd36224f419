/**
 * The `Encoded` interface of the BackupStore port over IndexedDB. Each method is one short
 * transaction; writes update the counters in the same transaction (upsert: IndexedDbUpsert.ts).
 */
import type { BackupStore } from "@matrix-backup/core"
import type { EncodedStore } from "@matrix-backup/core/adapter"
import { StoreMark } from "@matrix-backup/core/adapter"
import type { Effect } from "effect"
import { onResult, transact, type Guard } from "./IndexedDbRequest.js"
import { applyDelta, counterValue, id, readAll, stateOf, toRow } from "./IndexedDbRows.js"
import { backedUpName, CHECKPOINTS, COUNTERS, KV, PENDING_INDEX, ROOM_KEYS, toKeyRecord, TOTAL } from "./IndexedDbSchema.js"
import { upsertBody } from "./IndexedDbUpsert.js"

const markBody = (version: string, refs: ReadonlyArray<BackupStore.RoomKeyRef>) => (tx: IDBTransaction, guard: Guard) => {
  const store = tx.objectStore(ROOM_KEYS)
  let changed = 0
  readAll(store, guard, refs, (found) => {
    const result = StoreMark.applyMark(
      {
        get: (roomId, sessionId) => {
          const record = found.get(id(roomId, sessionId))
          return record === undefined ? undefined : stateOf(record)
        },
        mark: (roomId, sessionId, backedUpTo) => {
          const record = found.get(id(roomId, sessionId))
          if (record === undefined) return
          const marked = { ...record, backedUpTo }
          found.set(id(roomId, sessionId), marked)
          store.put(marked)
        },
      },
      version,
      refs,
    )
    changed = result.changed
    applyDelta(tx, guard, result.delta)
  })
  return () => changed
}

const pendingBody = (keyRange: typeof IDBKeyRange, version: string, limit: number) => (tx: IDBTransaction, guard: Guard) => {
  const index = tx.objectStore(ROOM_KEYS).index(PENDING_INDEX)
  const rows: Array<EncodedStore.EncodedRow> = []
  const take = (value: unknown) => {
    if (Array.isArray(value)) for (const v of value) rows.push(toRow(toKeyRecord(v)))
  }
  // Every flag below `version` ("" = nowhere sorts first), then every flag above it.
  onResult(index.getAll(keyRange.upperBound([version], true), limit), guard, (below) => {
    take(below)
    if (rows.length < limit) onResult(index.getAll(keyRange.lowerBound([version, []], true), limit - rows.length), guard, take)
  })
  return () => rows
}

const countBody = (version: string | null) => (tx: IDBTransaction, guard: Guard) => {
  const counters = tx.objectStore(COUNTERS)
  let total = 0
  let backed = 0
  onResult(counters.get(TOTAL), guard, (value) => (total = counterValue(value)))
  if (version !== null) onResult(counters.get(backedUpName(version)), guard, (value) => (backed = counterValue(value)))
  return () => total - backed
}

/** Builds the adapter over an open database. */
export const makeIndexedDbEncoded = (db: IDBDatabase, keyRange: typeof IDBKeyRange): EncodedStore.Encoded => {
  const run = <A>(stores: ReadonlyArray<string>, mode: IDBTransactionMode, operation: string, body: (tx: IDBTransaction, guard: Guard) => () => A): Effect.Effect<A, BackupStore.StorageError> =>
    transact(db, stores, mode, operation, body)
  const readOne = <A>(store: string, key: IDBValidKey, map: (value: unknown) => A) =>
    run([store], "readonly", "read", (tx, guard) => {
      let out = map(undefined)
      onResult(tx.objectStore(store).get(key), guard, (value) => (out = map(value)))
      return () => out
    })
  return {
    upsertRoomKeys: (keys, backedUpTo, checkpoint) =>
      run([ROOM_KEYS, COUNTERS, CHECKPOINTS], "readwrite", "upsert", upsertBody(keys, backedUpTo, checkpoint)),
    pendingRoomKeys: (version, limit) => run([ROOM_KEYS], "readonly", "pending", pendingBody(keyRange, version, limit)),
    markBackedUp: (version, refs) => run([ROOM_KEYS, COUNTERS], "readwrite", "mark", markBody(version, refs)),
    countPending: (version) => run([COUNTERS], "readonly", "count", countBody(version)),
    countTotal: run([COUNTERS], "readonly", "count", countBody(null)),
    getRoomKey: (roomId, sessionId) =>
      readOne(ROOM_KEYS, [roomId, sessionId], (value) => (value === undefined ? undefined : toRow(toKeyRecord(value)))),
    exportPage: (after, limit, room) =>
      run([ROOM_KEYS], "readonly", "export", (tx, guard) => {
        const rows: Array<EncodedStore.EncodedRow> = []
        const range =
          room === null
            ? after === null ? null : keyRange.lowerBound([after.roomId, after.sessionId], true)
            : keyRange.bound([room, after !== null && after.roomId === room ? after.sessionId : ""], [room, []], true, true)
        onResult(tx.objectStore(ROOM_KEYS).getAll(range, limit), guard, (value) => {
          if (Array.isArray(value)) for (const v of value) rows.push(toRow(toKeyRecord(v)))
        })
        return () => rows
      }),
    getValue: (name) =>
      readOne(KV, name, (value) => {
        const v = typeof value === "object" && value !== null ? Reflect.get(value, "value") : undefined
        return typeof v === "string" ? v : undefined
      }),
    setValue: (name, value) =>
      run([KV], "readwrite", "write", (tx) => {
        if (value === undefined) tx.objectStore(KV).delete(name)
        else tx.objectStore(KV).put({ name, value })
        return () => undefined
      }),
    getCheckpoint: (version) =>
      run([CHECKPOINTS], "readonly", "read", (tx, guard) => {
        const rooms: Array<string> = []
        onResult(tx.objectStore(CHECKPOINTS).getAllKeys(keyRange.bound([version], [version, []])), guard, (keys) => {
          if (Array.isArray(keys)) for (const k of keys) if (Array.isArray(k) && typeof k[1] === "string") rooms.push(k[1])
        })
        return () => rooms
      }),
    clearCheckpoint: (version) =>
      run([CHECKPOINTS], "readwrite", "write", (tx) => {
        tx.objectStore(CHECKPOINTS).delete(keyRange.bound([version], [version, []]))
        return () => undefined
      }),
  }
}
