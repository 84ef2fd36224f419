// `/room_keys/keys[/{roomId}[/{sessionId}]]`: upload, read and delete backed-up room keys with
// Synapse's version checks, replacement chain and etag/count rules (docs/PROTOCOL.md §1.3–§2.2); the server
// profile changes the wrong-version answer, reads of deleted or unknown versions, the better-key rule and the
// delete routes.
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, isObject, json, jsonStream, notFound } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client } from "../Router.js"
import type { ServerProfile } from "../Profile.js"
import { countOf, etagOf, noteKeyChange } from "../Profile.js"
import type { BackupVersion, StoredKey, User } from "../State.js"
import { findBackup, latestBackup, versionNumber } from "../State.js"
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

const sameVersion = (backup: BackupVersion, version: string, profile: ServerProfile): boolean =>
  // Synapse compares the strings, so "01" is "wrong" although it names version 1; tuwunel compares numbers.
  profile.compareVersions === "string" ? String(backup.version) === version : versionNumber(version) === backup.version

const writableVersion = (user: User, version: string, profile: ServerProfile): BackupVersion => {
  const current = latestBackup(user, profile)
  if (current === undefined) {
    // conduwuit's "is it the latest?" check passes with no latest, but storing a key then needs the version's row,
    // which the delete removed. A profile object may accept instead, into the deleted version.
    const named = findBackup(user, version)
    if (profile.uploadWithoutBackup === "accepted" && named !== undefined) return named
    throw notFound(`Version '${version}' not found`)
  }
  if (sameVersion(current, version, profile)) {
    if (!current.deleted) return current
    // Dendrite's "latest" can be a deleted version; writing to it fails inside the server.
    throw profile.uploadToDeletedCurrent === "serverError" ? internalError() : notFound(`Version '${version}' not found`)
  }
  const { status, errcode } = profile.wrongVersion
  const named = findBackup(user, version)
  // conduwuit refuses any version that is not the latest the same way, known or not.
  if (errcode !== "M_INVALID_PARAM" && (named === undefined || named.deleted)) throw notFound(`Version '${version}' not found`)
  const extra = errcode === "M_WRONG_ROOM_KEYS_VERSION" ? { current_version: String(current.version) } : {}
  throw new MatrixError(status, errcode, errcode === "M_WRONG_ROOM_KEYS_VERSION" ? "Wrong room_keys version" : "You may only manipulate the most recently created version of the backup.", extra)
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

/**
 * Uploads `{rooms: {roomId: {sessions: {...}}}}`; replacements apply one by one, inserts at the end. Without
 * `betterKeyRule` every stored key is overwritten (conduwuit's bulk and per-room PUTs).
 */
const upload = (backup: BackupVersion, rooms: unknown, betterKeyRule: boolean): { changed: boolean } => {
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
      } else if (!betterKeyRule || shouldReplace(stored, incoming)) {
        storeKey(backup, roomId, sessionId, incoming)
        changed = true
      }
    }
  }
  for (const [roomId, sessionId, key] of inserts) storeKey(backup, roomId, sessionId, key)
  return { changed }
}

const put = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  let body: unknown = ctx.body()
  const version = requireVersion(ctx)
  const [roomId, sessionId] = ctx.params
  if (sessionId !== undefined) body = { sessions: { [sessionId]: body } }
  if (roomId !== undefined) body = { rooms: { [roomId]: body } }
  const backup = writableVersion(user, version, ctx.profile)
  if (!isObject(body) || !("rooms" in body)) throw internalError()
  const betterKeyRule = ctx.profile.betterKeyRule === "everyPut" || sessionId !== undefined
  const { changed } = upload(backup, body["rooms"], betterKeyRule)
  if (changed) noteKeyChange(backup, ctx.profile, ctx.bump())
  return json(200, { etag: etagOf(backup, ctx.profile), count: countOf(backup, ctx.profile) })
}

const readableVersion = (ctx: RouteContext, version: string): BackupVersion => {
  const backup = findBackup(ctx.auth().user, version)
  if (backup === undefined || backup.deleted) throw notFound("Unknown backup version")
  return backup
}

/**
 * The version a read looks in. conduwuit reads the keys stored under the id without asking whether the version
 * exists: an unknown one reads as empty, a deleted one as the keys an upload racing the delete left behind.
 */
const readVersion = (ctx: RouteContext): BackupVersion | undefined => {
  const version = requireVersion(ctx)
  if (ctx.profile.readUnknownVersion === "notFound") return readableVersion(ctx, version)
  // conduwuit's stored id is the exact string ("010" is not version 10 there); Palpo parses an integer.
  const backup = findBackup(ctx.auth().user, version)
  return backup !== undefined && (ctx.profile.compareVersions === "number" || String(backup.version) === version) ? backup : undefined
}

const get = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  const backup = readVersion(ctx) ?? EMPTY
  const [roomId, sessionId] = ctx.params
  if (roomId === undefined) return jsonStream(200, () => allRooms(snapshot(backup)))
  const room = backup.rooms.get(roomId)
  if (sessionId === undefined) return jsonStream(200, () => roomPieces(room === undefined ? [] : [...room]))
  const key = room?.get(sessionId)
  if (key === undefined) throw notFound("No room_keys found")
  return json(200, JSON.parse(keyJson(key)))
}

/** What an unknown version reads as where reads do not check the version. */
const EMPTY: BackupVersion = { version: 0, algorithm: "", authData: {}, etag: 0, deleted: true, count: 0, rooms: new Map() }

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
  // Dendrite registers no DELETE for room keys: the path exists for other methods only.
  if (!ctx.profile.deleteKeysRoutes) throw new MatrixError(405, "M_UNRECOGNIZED", "Unrecognized request")
  ctx.auth()
  const backup = readableVersion(ctx, requireVersion(ctx))
  const [roomId, sessionId] = ctx.params
  deleteKeys(backup, roomId, sessionId)
  noteKeyChange(backup, ctx.profile, ctx.bump())
  return json(200, { etag: etagOf(backup, ctx.profile), count: countOf(backup, ctx.profile) })
}

/** Routes for room keys. */
export const routes: ReadonlyArray<Route> = ["", "/{roomId}", "/{roomId}/{sessionId}"].flatMap((suffix) => [
  ...client("PUT", `/room_keys/keys${suffix}`, put),
  ...client("GET", `/room_keys/keys${suffix}`, get),
  ...client("DELETE", `/room_keys/keys${suffix}`, remove),
])

/** Exposed for the admin API and fixtures. */
export type { JsonObject }
