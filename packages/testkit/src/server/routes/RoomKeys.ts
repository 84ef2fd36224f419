// `/room_keys/keys[/{roomId}[/{sessionId}]]`: upload, read and delete backed-up room keys with
// Synapse's version checks, replacement chain and etag/count rules (docs/PROTOCOL.md §1.3–§2.2).
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, isObject, json, jsonStream, notFound } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client } from "../Router.js"
import type { BackupVersion, StoredKey, User } from "../State.js"
import { currentBackup, findBackup } from "../State.js"
import { internalError } from "./RoomKeyVersions.js"
import { deleteKeys, storeKey, keyJson } from "./RoomKeyStore.js"

const requireVersion = (ctx: RouteContext): string => {
  const version = ctx.query.get("version")
  if (version === null) throw new MatrixError(400, "M_MISSING_PARAM", "Missing string query parameter 'version'")
  return version
}

/** Synapse's if/elif chain: it does not check that the earlier fields were equal. */
export const shouldReplace = (stored: StoredKey, incoming: StoredKey): boolean => {
  if (incoming.isVerified && !stored.isVerified) return true
  if (incoming.firstMessageIndex < stored.firstMessageIndex) return true
  if (incoming.forwardedCount < stored.forwardedCount) return true
  return false
}

const writableVersion = (user: User, version: string): BackupVersion => {
  const current = currentBackup(user)
  if (current === undefined) throw notFound(`Version '${version}' not found`)
  // Synapse compares the strings, so "01" is "wrong" although it names version 1.
  if (String(current.version) === version) return current
  const named = findBackup(user, version)
  if (named === undefined || named.deleted) throw notFound(`Version '${version}' not found`)
  throw new MatrixError(403, "M_WRONG_ROOM_KEYS_VERSION", "Wrong room_keys version", {
    current_version: String(current.version),
  })
}

const toStoredKey = (value: unknown): StoredKey => {
  if (!isObject(value)) throw internalError()
  const { first_message_index: fmi, forwarded_count: fc, is_verified: verified, session_data: data } = value
  if (verified === undefined) throw internalError()
  if (typeof verified !== "boolean") {
    throw new MatrixError(400, "M_INVALID_PARAM", "is_verified must be a boolean in keys")
  }
  if (typeof fmi !== "number" || typeof fc !== "number" || data === undefined) throw internalError()
  return { firstMessageIndex: fmi, forwardedCount: fc, isVerified: verified, sessionData: JSON.stringify(data) }
}

/** Uploads `{rooms: {roomId: {sessions: {...}}}}`; replacements apply one by one, inserts at the end. */
const upload = (backup: BackupVersion, rooms: unknown): { changed: boolean } => {
  if (!isObject(rooms)) throw internalError()
  const inserts: Array<[string, string, StoredKey]> = []
  let changed = false
  for (const [roomId, room] of Object.entries(rooms)) {
    if (!isObject(room) || !isObject(room["sessions"])) throw internalError()
    for (const [sessionId, raw] of Object.entries(room["sessions"])) {
      const incoming = toStoredKey(raw)
      const stored = backup.rooms.get(roomId)?.get(sessionId)
      if (stored === undefined) {
        inserts.push([roomId, sessionId, incoming])
        changed = true
      } else if (shouldReplace(stored, incoming)) {
        storeKey(backup, roomId, sessionId, incoming)
        changed = true
      }
    }
  }
  for (const [roomId, sessionId, key] of inserts) storeKey(backup, roomId, sessionId, key)
  if (changed) backup.etag += 1
  return { changed }
}

const put = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  let body: unknown = ctx.body()
  const version = requireVersion(ctx)
  const [roomId, sessionId] = ctx.params
  if (sessionId !== undefined) body = { sessions: { [sessionId]: body } }
  if (roomId !== undefined) body = { rooms: { [roomId]: body } }
  const backup = writableVersion(user, version)
  if (!isObject(body) || !("rooms" in body)) throw internalError()
  const { changed } = upload(backup, body["rooms"])
  if (changed) ctx.bump()
  return json(200, { etag: String(backup.etag), count: backup.count })
}

const readableVersion = (ctx: RouteContext, version: string): BackupVersion => {
  const backup = findBackup(ctx.auth().user, version)
  if (backup === undefined || backup.deleted) throw notFound("Unknown backup version")
  return backup
}

const get = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  const backup = readableVersion(ctx, requireVersion(ctx))
  const [roomId, sessionId] = ctx.params
  if (roomId === undefined) return jsonStream(200, () => allRooms(snapshot(backup)))
  const room = backup.rooms.get(roomId)
  if (sessionId === undefined) return jsonStream(200, () => roomPieces(room === undefined ? [] : [...room]))
  const key = room?.get(sessionId)
  if (key === undefined) throw notFound("No room_keys found")
  return json(200, JSON.parse(keyJson(key)))
}

type Snapshot = ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, StoredKey]>]>

/** Copies the references up front, like Synapse reading inside one transaction. */
const snapshot = (backup: BackupVersion): Snapshot =>
  [...backup.rooms].map(([roomId, sessions]) => [roomId, [...sessions]] as const)

function* allRooms(rooms: Snapshot): Iterable<string> {
  yield "{\"rooms\":{"
  let first = true
  for (const [roomId, sessions] of rooms) {
    yield `${first ? "" : ","}${JSON.stringify(roomId)}:`
    yield* roomPieces(sessions)
    first = false
  }
  yield "}}"
}

function* roomPieces(sessions: ReadonlyArray<readonly [string, StoredKey]>): Iterable<string> {
  yield "{\"sessions\":{"
  let first = true
  for (const [sessionId, key] of sessions) {
    yield `${first ? "" : ","}${JSON.stringify(sessionId)}:${keyJson(key)}`
    first = false
  }
  yield "}}"
}

const remove = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  const backup = readableVersion(ctx, requireVersion(ctx))
  const [roomId, sessionId] = ctx.params
  deleteKeys(backup, roomId, sessionId)
  backup.etag += 1
  ctx.bump()
  return json(200, { etag: String(backup.etag), count: backup.count })
}

/** Routes for room keys. */
export const routes: ReadonlyArray<Route> = ["", "/{roomId}", "/{roomId}/{sessionId}"].flatMap((suffix) => [
  ...client("PUT", `/room_keys/keys${suffix}`, put),
  ...client("GET", `/room_keys/keys${suffix}`, get),
  ...client("DELETE", `/room_keys/keys${suffix}`, remove),
])

/** Exposed for the admin API and fixtures. */
export type { JsonObject }
