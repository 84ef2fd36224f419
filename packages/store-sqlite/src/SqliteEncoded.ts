/**
 * The `Encoded` interface of the BackupStore port over one better-sqlite3 connection: prepared
 * statements, one immediate transaction per write, counters updated in the same transaction.
 */
import type { BackupStore } from "@matrix-backup/core"
import type { EncodedStore } from "@matrix-backup/core/adapter"
import { StoreMark, StoreMerge } from "@matrix-backup/core/adapter"
import type { Database as DatabaseType } from "better-sqlite3"
import type { Effect } from "effect"

type Encoded = EncodedStore.Encoded
type EncodedRow = EncodedStore.EncodedRow

const COLUMNS = "room_id, session_id, first_known_index, backed_up_to, revision, data"
const TOTAL = "total"
const backedUpName = (version: string) => `backedUp:${version}`

/** A row in `raw()` form, checked before use (no casts). */
const toRow = (value: unknown): EncodedRow => {
  if (!Array.isArray(value)) throw new TypeError("room key row")
  const [roomId, sessionId, firstKnownIndex, backedUpTo, revision, data] = value
  if (
    typeof roomId !== "string" ||
    typeof sessionId !== "string" ||
    typeof firstKnownIndex !== "number" ||
    (backedUpTo !== null && typeof backedUpTo !== "string") ||
    typeof revision !== "number" ||
    typeof data !== "string"
  ) {
    throw new TypeError("room key row")
  }
  return { roomId, sessionId, firstKnownIndex, backedUpTo, revision, data }
}

const toState = (value: unknown): StoreMerge.StoredState | undefined => {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new TypeError("room key state")
  const [firstKnownIndex, backedUpTo, revision] = value
  if (typeof firstKnownIndex !== "number" || typeof revision !== "number") throw new TypeError("room key state")
  if (backedUpTo !== null && typeof backedUpTo !== "string") throw new TypeError("room key state")
  return { firstKnownIndex, backedUpTo, revision }
}

const prepareAll = (db: DatabaseType) => ({
  tryInsert: db.prepare(
    `INSERT INTO room_keys (${COLUMNS}) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (room_id, session_id) DO NOTHING`,
  ),
  state: db.prepare("SELECT first_known_index, backed_up_to, revision FROM room_keys WHERE room_id = ? AND session_id = ?").raw(),
  replace: db.prepare(
    "UPDATE room_keys SET first_known_index = ?, backed_up_to = ?, revision = ?, data = ? WHERE room_id = ? AND session_id = ?",
  ),
  mark: db.prepare("UPDATE room_keys SET backed_up_to = ? WHERE room_id = ? AND session_id = ?"),
  bump: db.prepare("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"),
  counter: db.prepare("SELECT value FROM counters WHERE name = ?").pluck(),
  pendingNull: db.prepare(`SELECT ${COLUMNS} FROM room_keys WHERE backed_up_to IS NULL ORDER BY id LIMIT ?`).raw(),
  pendingBelow: db.prepare(`SELECT ${COLUMNS} FROM room_keys WHERE backed_up_to < ? ORDER BY backed_up_to, id LIMIT ?`).raw(),
  pendingAbove: db.prepare(`SELECT ${COLUMNS} FROM room_keys WHERE backed_up_to > ? ORDER BY backed_up_to, id LIMIT ?`).raw(),
  get: db.prepare(`SELECT ${COLUMNS} FROM room_keys WHERE room_id = ? AND session_id = ?`).raw(),
  exportAll: db.prepare(
    `SELECT ${COLUMNS} FROM room_keys WHERE (room_id, session_id) > (?, ?) ORDER BY room_id, session_id LIMIT ?`,
  ).raw(),
  exportRoom: db.prepare(
    `SELECT ${COLUMNS} FROM room_keys WHERE room_id = ? AND session_id > ? ORDER BY session_id LIMIT ?`,
  ).raw(),
  getValue: db.prepare("SELECT value FROM kv WHERE name = ?").pluck(),
  setValue: db.prepare("INSERT INTO kv (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  deleteValue: db.prepare("DELETE FROM kv WHERE name = ?"),
  addCheckpoint: db.prepare("INSERT OR IGNORE INTO restore_checkpoints (version, room_id) VALUES (?, ?)"),
  checkpoint: db.prepare("SELECT room_id FROM restore_checkpoints WHERE version = ? ORDER BY room_id").pluck(),
  clearCheckpoint: db.prepare("DELETE FROM restore_checkpoints WHERE version = ?"),
})

/** Builds the adapter; `run` turns a synchronous database call into an Effect with mapped errors. */
export const makeSqliteEncoded = (
  db: DatabaseType,
  run: <A>(operation: string, body: () => A) => Effect.Effect<A, BackupStore.StorageError>,
): Encoded => {
  const s = prepareAll(db)
  const counter = (name: string) => {
    const value = s.counter.get(name)
    return typeof value === "number" ? value : 0
  }
  const applyDelta = (delta: StoreMerge.CounterDelta) => {
    if (delta.total !== 0) s.bump.run(TOTAL, delta.total)
    for (const [version, by] of delta.backedUp) if (by !== 0) s.bump.run(backedUpName(version), by)
  }
  const target: StoreMerge.UpsertTarget = {
    tryInsert: (k, b) => s.tryInsert.run(k.roomId, k.sessionId, k.firstKnownIndex, b, k.data).changes === 1,
    get: (roomId, sessionId) => toState(s.state.get(roomId, sessionId)),
    insert: (k, b) => void s.tryInsert.run(k.roomId, k.sessionId, k.firstKnownIndex, b, k.data),
    replace: (k, b, revision) => void s.replace.run(k.firstKnownIndex, b, revision, k.data, k.roomId, k.sessionId),
    mark: (roomId, sessionId, b) => void s.mark.run(b, roomId, sessionId),
  }
  const upsert = db.transaction(
    (keys: ReadonlyArray<EncodedStore.EncodedRoomKey>, backedUpTo: string | null, checkpoint: BackupStore.Checkpoint | null) => {
      const { counts, delta } = StoreMerge.applyUpsert(target, keys, backedUpTo)
      applyDelta(delta)
      if (checkpoint !== null) for (const room of checkpoint.rooms) s.addCheckpoint.run(checkpoint.version, room)
      return counts
    },
  )
  const markBackedUp = db.transaction((version: string, refs: ReadonlyArray<BackupStore.RoomKeyRef>) => {
    const { changed, delta } = StoreMark.applyMark(target, version, refs)
    applyDelta(delta)
    return changed
  })
  const pending = db.transaction((version: string, limit: number) => {
    const rows = s.pendingNull.all(limit)
    if (rows.length < limit) rows.push(...s.pendingBelow.all(version, limit - rows.length))
    if (rows.length < limit) rows.push(...s.pendingAbove.all(version, limit - rows.length))
    return rows.map(toRow)
  })
  const countPending = db.transaction((version: string) => counter(TOTAL) - counter(backedUpName(version)))
  return {
    upsertRoomKeys: (keys, backedUpTo, checkpoint) =>
      run("upsert", () => upsert.immediate(keys, backedUpTo, checkpoint)),
    pendingRoomKeys: (version, limit) => run("pending", () => pending.deferred(version, limit)),
    markBackedUp: (version, refs) => run("mark", () => markBackedUp.immediate(version, refs)),
    countPending: (version) => run("count", () => countPending.deferred(version)),
    countTotal: run("count", () => counter(TOTAL)),
    getRoomKey: (roomId, sessionId) =>
      run("get", () => {
        const row = s.get.get(roomId, sessionId)
        return row === undefined ? undefined : toRow(row)
      }),
    exportPage: (after, limit, room) =>
      run("export", () =>
        (room === null
          ? s.exportAll.all(after?.roomId ?? "", after?.sessionId ?? "", limit)
          : s.exportRoom.all(room, after?.roomId === room ? after.sessionId : "", limit)
        ).map(toRow),
      ),
    getValue: (name) =>
      run("read", () => {
        const value = s.getValue.get(name)
        return typeof value === "string" ? value : undefined
      }),
    setValue: (name, value) =>
      run("write", () => void (value === undefined ? s.deleteValue.run(name) : s.setValue.run(name, value))),
    getCheckpoint: (version) =>
      run("read", () => s.checkpoint.all(version).filter((room): room is string => typeof room === "string")),
    clearCheckpoint: (version) => run("write", () => void s.clearCheckpoint.run(version)),
  }
}
