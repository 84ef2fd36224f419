/**
 * An in-memory `Encoded` for tests and ephemeral use. Rows are grouped by `backedUpTo`, so a pending
 * query walks only the groups of other versions and every count is a Map size (no scan).
 */
import { Effect } from "effect"
import type { EncodedRoomKey, EncodedRow, Encoded, ExportCursor, RoomKeyRef } from "./Encoded.js"
import { applyUpsert, type UpsertTarget } from "./Merge.js"

interface Row {
  roomId: string
  sessionId: string
  firstKnownIndex: number
  data: string
  backedUpTo: string | null
  revision: number
}

const rowKey = (roomId: string, sessionId: string) => `${roomId}\u0000${sessionId}`
const snapshot = (row: Row): EncodedRow => ({ ...row })
const compareIds = (a: ExportCursor, b: ExportCursor) =>
  a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0

/** Fresh, empty in-memory tables behind the `Encoded` interface. */
export const makeMemoryEncoded = (): Encoded => {
  const rows = new Map<string, Row>()
  const groups = new Map<string | null, Map<string, Row>>()
  const values = new Map<string, string>()
  const checkpoints = new Map<string, Set<string>>()
  let sorted: Array<Row> | undefined

  const group = (version: string | null) => {
    let g = groups.get(version)
    if (g === undefined) groups.set(version, (g = new Map()))
    return g
  }
  const moveTo = (row: Row, version: string | null) => {
    const key = rowKey(row.roomId, row.sessionId)
    groups.get(row.backedUpTo)?.delete(key)
    row.backedUpTo = version
    group(version).set(key, row)
  }
  const target: UpsertTarget = {
    get: (roomId, sessionId) => rows.get(rowKey(roomId, sessionId)),
    insert: (key: EncodedRoomKey, backedUpTo) => {
      const row: Row = { ...key, backedUpTo, revision: 1 }
      rows.set(rowKey(key.roomId, key.sessionId), row)
      group(backedUpTo).set(rowKey(key.roomId, key.sessionId), row)
      sorted = undefined
    },
    replace: (key, backedUpTo, revision) => {
      const row = rows.get(rowKey(key.roomId, key.sessionId))
      if (row === undefined) return
      row.firstKnownIndex = key.firstKnownIndex
      row.data = key.data
      row.revision = revision
      moveTo(row, backedUpTo)
    },
    mark: (roomId, sessionId, backedUpTo) => {
      const row = rows.get(rowKey(roomId, sessionId))
      if (row !== undefined) moveTo(row, backedUpTo)
    },
  }
  const pendingRoomKeys = (version: string, limit: number): Array<EncodedRow> => {
    const out: Array<EncodedRow> = []
    const versions = [...groups.keys()].filter((v) => v !== version)
    versions.sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0))
    for (const v of versions) {
      for (const row of groups.get(v)?.values() ?? []) {
        if (out.length >= limit) return out
        out.push(snapshot(row))
      }
    }
    return out
  }
  const markBackedUp = (version: string, refs: ReadonlyArray<RoomKeyRef>): number => {
    let changed = 0
    for (const ref of refs) {
      const row = rows.get(rowKey(ref.roomId, ref.sessionId))
      if (row === undefined || row.revision !== ref.revision || row.backedUpTo === version) continue
      moveTo(row, version)
      changed++
    }
    return changed
  }
  const exportPage = (after: ExportCursor | null, limit: number, room: string | null): Array<EncodedRow> => {
    sorted ??= [...rows.values()].sort(compareIds)
    let start = 0
    if (room !== null && (after === null || after.roomId < room)) after = { roomId: room, sessionId: "" }
    if (after !== null) {
      let lo = 0
      let hi = sorted.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        const row = sorted[mid]
        if (row !== undefined && compareIds(row, after) <= 0) lo = mid + 1
        else hi = mid
      }
      start = lo
    }
    const out: Array<EncodedRow> = []
    for (let i = start; i < sorted.length && out.length < limit; i++) {
      const row = sorted[i]
      if (row === undefined) break
      if (room !== null && row.roomId !== room) {
        if (row.roomId > room) break
        continue
      }
      out.push(snapshot(row))
    }
    return out
  }
  return {
    upsertRoomKeys: (keys, backedUpTo, checkpoint) =>
      Effect.sync(() => {
        const { counts } = applyUpsert(target, keys, backedUpTo)
        if (checkpoint !== null) {
          const done = checkpoints.get(checkpoint.version) ?? new Set<string>()
          for (const room of checkpoint.rooms) done.add(room)
          checkpoints.set(checkpoint.version, done)
        }
        return counts
      }),
    pendingRoomKeys: (version, limit) => Effect.sync(() => pendingRoomKeys(version, limit)),
    markBackedUp: (version, refs) => Effect.sync(() => markBackedUp(version, refs)),
    countPending: (version) => Effect.sync(() => rows.size - (groups.get(version)?.size ?? 0)),
    countTotal: Effect.sync(() => rows.size),
    getRoomKey: (roomId, sessionId) =>
      Effect.sync(() => {
        const row = rows.get(rowKey(roomId, sessionId))
        return row === undefined ? undefined : snapshot(row)
      }),
    exportPage: (after, limit, room) => Effect.sync(() => exportPage(after, limit, room)),
    getValue: (name) => Effect.sync(() => values.get(name)),
    setValue: (name, value) =>
      Effect.sync(() => {
        if (value === undefined) values.delete(name)
        else values.set(name, value)
      }),
    getCheckpoint: (version) => Effect.sync(() => [...(checkpoints.get(version) ?? [])]),
    clearCheckpoint: (version) => Effect.sync(() => void checkpoints.delete(version)),
  }
}
