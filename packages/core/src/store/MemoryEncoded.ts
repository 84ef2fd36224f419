/**
 * An in-memory `Encoded` for tests and ephemeral use. Rows are grouped by `backedUpTo`, so a pending
 * query walks only the groups of other versions and every count is a Map size (no scan).
 */
import { Effect } from "effect"
import type { Checkpoint, EncodedRoomKey, EncodedRow, Encoded, ExportCursor } from "./Encoded.js"
import { applyMark, type MarkTarget } from "./Mark.js"
import { applyUpsert, type UpsertTarget } from "./Merge.js"

interface Row {
  roomId: string
  sessionId: string
  firstKnownIndex: number
  data: string
  backedUpTo: string | null
  revision: number
}

/** Every table of one store; `sorted` caches the rows in id order for export until a row is added. */
interface Tables {
  readonly rows: Map<string, Row>
  readonly groups: Map<string | null, Map<string, Row>>
  readonly values: Map<string, string>
  readonly checkpoints: Map<string, Set<string>>
  sorted: Array<Row> | undefined
}

const rowKey = (roomId: string, sessionId: string) => `${roomId}\u0000${sessionId}`
const snapshot = (row: Row): EncodedRow => ({ ...row })
const compareIds = (a: ExportCursor, b: ExportCursor) =>
  a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0
const compareVersions = (a: string | null, b: string | null) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0)

/** The rows backed up to `version` (created on first use). */
const group = (t: Tables, version: string | null) => {
  let g = t.groups.get(version)
  if (g === undefined) t.groups.set(version, (g = new Map()))
  return g
}

/** Moves a row to the group of `version`. */
const moveTo = (t: Tables, row: Row, version: string | null) => {
  const key = rowKey(row.roomId, row.sessionId)
  t.groups.get(row.backedUpTo)?.delete(key)
  row.backedUpTo = version
  group(t, version).set(key, row)
}

/** Reading and marking rows, shared by the merge and the mark rule. */
const markTarget = (t: Tables): MarkTarget => ({
  get: (roomId, sessionId) => t.rows.get(rowKey(roomId, sessionId)),
  mark: (roomId, sessionId, backedUpTo) => {
    const row = t.rows.get(rowKey(roomId, sessionId))
    if (row !== undefined) moveTo(t, row, backedUpTo)
  },
})

/** The writes core's merge rule asks for. */
const upsertTarget = (t: Tables): UpsertTarget => ({
  ...markTarget(t),
  insert: (key: EncodedRoomKey, backedUpTo) => {
    const row: Row = { ...key, backedUpTo, revision: 1 }
    t.rows.set(rowKey(key.roomId, key.sessionId), row)
    group(t, backedUpTo).set(rowKey(key.roomId, key.sessionId), row)
    t.sorted = undefined
  },
  replace: (key, backedUpTo, revision) => {
    const row = t.rows.get(rowKey(key.roomId, key.sessionId))
    if (row === undefined) return
    row.firstKnownIndex = key.firstKnownIndex
    row.data = key.data
    row.revision = revision
    moveTo(t, row, backedUpTo)
  },
})

/** Records the rooms a restore batch completed. */
const addCheckpoint = (t: Tables, checkpoint: Checkpoint) => {
  const done = t.checkpoints.get(checkpoint.version) ?? new Set<string>()
  for (const room of checkpoint.rooms) done.add(room)
  t.checkpoints.set(checkpoint.version, done)
}

/** Up to `limit` rows not backed up to `version`: never backed up first, then by version. */
const pendingRoomKeys = (t: Tables, version: string, limit: number): Array<EncodedRow> => {
  const out: Array<EncodedRow> = []
  const versions = [...t.groups.keys()].filter((v) => v !== version).sort(compareVersions)
  for (const v of versions) {
    for (const row of t.groups.get(v)?.values() ?? []) {
      if (out.length >= limit) return out
      out.push(snapshot(row))
    }
  }
  return out
}

/** Index of the first row after `after` in id order (binary search). */
const firstAfter = (sorted: ReadonlyArray<Row>, after: ExportCursor): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const row = sorted[mid]
    if (row !== undefined && compareIds(row, after) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Up to `limit` rows after `after` in id order, only of `room` when given. */
const exportPage = (t: Tables, after: ExportCursor | null, limit: number, room: string | null): Array<EncodedRow> => {
  const sorted = (t.sorted ??= [...t.rows.values()].sort(compareIds))
  const from = room !== null && (after === null || after.roomId < room) ? { roomId: room, sessionId: "" } : after
  const out: Array<EncodedRow> = []
  for (let i = from === null ? 0 : firstAfter(sorted, from); i < sorted.length && out.length < limit; i++) {
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

/** Fresh, empty in-memory tables behind the `Encoded` interface. */
export const makeMemoryEncoded = (): Encoded => {
  const t: Tables = { rows: new Map(), groups: new Map(), values: new Map(), checkpoints: new Map(), sorted: undefined }
  return {
    upsertRoomKeys: (keys, backedUpTo, checkpoint) =>
      Effect.sync(() => {
        const { counts } = applyUpsert(upsertTarget(t), keys, backedUpTo)
        if (checkpoint !== null) addCheckpoint(t, checkpoint)
        return counts
      }),
    pendingRoomKeys: (version, limit) => Effect.sync(() => pendingRoomKeys(t, version, limit)),
    // Counts are group sizes here, so the rule's counter delta is not needed.
    markBackedUp: (version, refs) => Effect.sync(() => applyMark(markTarget(t), version, refs).changed),
    countPending: (version) => Effect.sync(() => t.rows.size - (t.groups.get(version)?.size ?? 0)),
    countTotal: Effect.sync(() => t.rows.size),
    getRoomKey: (roomId, sessionId) =>
      Effect.sync(() => {
        const row = t.rows.get(rowKey(roomId, sessionId))
        return row === undefined ? undefined : snapshot(row)
      }),
    exportPage: (after, limit, room) => Effect.sync(() => exportPage(t, after, limit, room)),
    getValue: (name) => Effect.sync(() => t.values.get(name)),
    setValue: (name, value) =>
      Effect.sync(() => {
        if (value === undefined) t.values.delete(name)
        else t.values.set(name, value)
      }),
    getCheckpoint: (version) => Effect.sync(() => [...(t.checkpoints.get(version) ?? [])]),
    clearCheckpoint: (version) => Effect.sync(() => void t.checkpoints.delete(version)),
  }
}
