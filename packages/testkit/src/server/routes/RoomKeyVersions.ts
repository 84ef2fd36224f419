// `/room_keys/version[/{version}]`: create, read, update and delete backup versions with Synapse's
// semantics (docs/PROTOCOL.md §1.2, §2.1): numbers never reused, "current" = highest live version; the
// server profile changes which version is "latest", how numbers are drawn, the etag and count shown, and
// the update's method, algorithm check and effect (older Palpo made a new version instead).
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, json, notFound, invalidParam } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client, param } from "../Router.js"
import type { ServerProfile } from "../Profile.js"
import { PROFILES, countOf, etagOf, noteVersionUpdate } from "../Profile.js"
import type { BackupVersion, User } from "../State.js"
import { createBackup, findBackup, latestBackup } from "../State.js"

/** Synapse lets a missing key in the body escape as an uncaught KeyError. */
export const internalError = (): MatrixError => new MatrixError(500, "M_UNKNOWN", "Internal server error")

/** The version body Synapse returns (etag rendered as a decimal string), with the profile's etag and count. */
export const versionInfo = (
  backup: BackupVersion,
  profile: ServerProfile = PROFILES.synapse,
): { algorithm: string; auth_data: unknown; count: number; etag: string; version: string } => ({
  algorithm: backup.algorithm,
  auth_data: backup.authData,
  count: countOf(backup, profile),
  etag: etagOf(backup, profile),
  version: String(backup.version),
})

const getCurrent = (ctx: RouteContext): CoreResponse => {
  const backup = latestBackup(ctx.auth().user, ctx.profile)
  // Dendrite's "latest" may be a deleted version: then there is no backup, even if an older one is live.
  if (backup === undefined || backup.deleted) throw notFound("No backup found")
  return json(200, versionInfo(backup, ctx.profile))
}

const create = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  const body = ctx.body()
  if (!("algorithm" in body) || !("auth_data" in body)) throw internalError()
  return json(200, { version: String(createFromBody(ctx, user, body).version) })
}

/** A new version from a create (or a minting update) body. */
const createFromBody = (ctx: RouteContext, user: User, body: JsonObject): BackupVersion => {
  const algorithm = body["algorithm"]
  // Synapse stores whatever it is given; a non-string algorithm is kept as its JSON text.
  const text = typeof algorithm === "string" ? algorithm : JSON.stringify(algorithm)
  const backup = createBackup(ctx.state, user, ctx.profile, text, body["auth_data"])
  noteVersionUpdate(backup, ctx.profile, ctx.bump())
  return backup
}

const liveVersion = (ctx: RouteContext, version: string): BackupVersion => {
  const backup = findBackup(ctx.auth().user, version)
  if (backup === undefined || backup.deleted) throw notFound("Unknown backup version")
  return backup
}

const getOne = (ctx: RouteContext): CoreResponse => {
  const backup = findBackup(ctx.auth().user, param(ctx, 0))
  if (backup === undefined || backup.deleted) throw notFound("No backup found")
  return json(200, versionInfo(backup, ctx.profile))
}

/** Palpo before 0.4.0: the path's version is never read; the body becomes a new, current version. */
const mint = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  const body = ctx.body()
  if (!("algorithm" in body) || !("auth_data" in body)) throw internalError()
  createFromBody(ctx, user, body)
  return json(200, {})
}

const update = (ctx: RouteContext): CoreResponse => {
  if (ctx.request.method !== ctx.profile.versionUpdateMethod) throw new MatrixError(405, "M_UNRECOGNIZED", "Unrecognized request")
  if (ctx.profile.versionUpdate === "mintsNewVersion") return mint(ctx)
  ctx.auth()
  const body = ctx.body()
  const version = param(ctx, 0)
  if ("version" in body && body["version"] !== version) throw invalidParam("Version in body does not match")
  const backup = liveVersion(ctx, version)
  if (!("algorithm" in body)) throw internalError()
  if (ctx.profile.updateChecksAlgorithm && body["algorithm"] !== backup.algorithm) throw invalidParam("Algorithm does not match")
  if (!("auth_data" in body)) throw internalError()
  backup.authData = body["auth_data"]
  noteVersionUpdate(backup, ctx.profile, ctx.bump())
  return json(200, {})
}

const remove = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  const backup = findBackup(user, param(ctx, 0))
  if (backup === undefined) throw notFound("No backup with that version exists")
  // Synapse deletes every stored key, then soft-deletes the row; a second delete still matches it.
  backup.rooms.clear()
  backup.count = 0
  backup.deleted = true
  ctx.bump()
  return json(200, {})
}

/** Routes for backup versions. */
export const routes: ReadonlyArray<Route> = [
  ...client("GET", "/room_keys/version", getCurrent),
  ...client("POST", "/room_keys/version", create),
  ...client("GET", "/room_keys/version/{version}", getOne),
  ...client("PUT", "/room_keys/version/{version}", update),
  ...client("POST", "/room_keys/version/{version}", update),
  ...client("DELETE", "/room_keys/version/{version}", remove),
]
