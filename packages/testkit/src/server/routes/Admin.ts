// `/_testkit/...`: the admin API over HTTP, for callers in another process (the CLI's tests).
// Faults travel as JSON; a RegExp path is sent as `{ "regex": source, "flags": flags }`.
import type { FakeHomeserverAdmin, KeyBackupData, StoredRoomKey } from "../../Admin.js"
import type { Fault } from "../Faults.js"
import type { CoreResponse, JsonObject } from "../Http.js"
import { badJson, isObject, json, notFound, objectAt, stringAt } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { at, param } from "../Router.js"

/** Encodes a fault for JSON transport. */
export const faultToJson = (fault: Fault): JsonObject => {
  const path = fault.match?.path
  const match = fault.match === undefined ? undefined : { ...fault.match, path: path instanceof RegExp ? { regex: path.source, flags: path.flags } : path }
  return { ...fault, match }
}

/** Decodes a fault from JSON transport (shape checks only; kinds are validated by the server). */
export const faultFromJson = (value: JsonObject): Fault => {
  const kind = stringAt(value, "kind")
  const match = objectAt(value, "match")
  const rawPath = match["path"]
  const path = isObject(rawPath) ? new RegExp(stringAt(rawPath, "regex") ?? "", stringAt(rawPath, "flags") ?? "") : typeof rawPath === "string" ? rawPath : undefined
  const method = stringAt(match, "method")
  const common = {
    match: { ...(method === undefined ? {} : { method }), ...(path === undefined ? {} : { path }) },
    ...(typeof value["times"] === "number" ? { times: value["times"] } : {}),
    ...(typeof value["nth"] === "number" ? { nth: value["nth"] } : {}),
  }
  const number = (key: string): number | undefined => (typeof value[key] === "number" ? value[key] : undefined)
  switch (kind) {
    case "latency":
      return { ...common, kind, ms: number("ms") ?? 0 }
    case "rateLimit": {
      const retryAfterMs = number("retryAfterMs")
      return retryAfterMs === undefined ? { ...common, kind } : { ...common, kind, retryAfterMs }
    }
    case "serverError": {
      const status = number("status")
      return status === undefined ? { ...common, kind } : { ...common, kind, status }
    }
    case "resetMidBody": {
      const afterBytes = number("afterBytes")
      return afterBytes === undefined ? { ...common, kind } : { ...common, kind, afterBytes }
    }
    case "hold": {
      const afterBytes = number("afterBytes")
      return afterBytes === undefined ? { ...common, kind } : { ...common, kind, afterBytes }
    }
    case "slowBody":
      return { ...common, kind, bytesPerChunk: number("bytesPerChunk") ?? 1, delayMs: number("delayMs") ?? 0 }
    default:
      throw badJson(`unknown fault kind ${String(kind)}`)
  }
}

const wrap = (f: (ctx: RouteContext) => Promise<unknown>) => async (ctx: RouteContext): Promise<CoreResponse> => {
  try {
    return json(200, (await f(ctx)) ?? {})
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("fake homeserver:")) throw notFound(error.message)
    throw error
  }
}

const isKeyBackupData = (value: unknown): value is KeyBackupData =>
  isObject(value) &&
  typeof value["first_message_index"] === "number" &&
  typeof value["forwarded_count"] === "number" &&
  typeof value["is_verified"] === "boolean" &&
  "session_data" in value

const storedKeys = (value: unknown): ReadonlyArray<StoredRoomKey> => {
  if (!Array.isArray(value)) throw badJson("keys must be an array")
  return value.map((entry) => {
    const data = isObject(entry) ? entry["data"] : undefined
    if (!isObject(entry) || !isKeyBackupData(data)) throw badJson("each key needs roomId, sessionId and a KeyBackupData")
    return { roomId: String(entry["roomId"]), sessionId: String(entry["sessionId"]), data }
  })
}

/** Admin routes bound to an admin implementation. */
export const adminRoutes = (admin: FakeHomeserverAdmin): ReadonlyArray<Route> => [
  at("POST", "/_testkit/faults", wrap(async (ctx) => ({ id: await admin.injectFault(faultFromJson(ctx.body())) }))),
  at("DELETE", "/_testkit/faults", wrap(() => admin.clearFaults())),
  at("DELETE", "/_testkit/faults/{id}", wrap((ctx) => admin.removeFault(param(ctx, 0)))),
  at("GET", "/_testkit/faults/{id}/held", wrap(async (ctx) => ({ held: await admin.awaitHeld(param(ctx, 0), Math.max(1, Number(ctx.query.get("count")) || 1)) }))),
  at("POST", "/_testkit/faults/{id}/release", wrap(async (ctx) => ({ released: await admin.releaseHeld(param(ctx, 0)) }))),
  at("GET", "/_testkit/room_keys/{userId}/{version}", wrap(async (ctx) => ({ keys: await admin.roomKeys(param(ctx, 0), param(ctx, 1)) }))),
  at("POST", "/_testkit/room_keys/{userId}/{version}", wrap((ctx) => admin.insertRoomKeys(param(ctx, 0), param(ctx, 1), storedKeys(ctx.body()["keys"])))),
  at("GET", "/_testkit/backup_versions/{userId}", wrap(async (ctx) => ({ versions: await admin.backupVersions(param(ctx, 0)) }))),
  at("GET", "/_testkit/account_data/{userId}/{type}", wrap(async (ctx) => ({ content: (await admin.accountData(param(ctx, 0), param(ctx, 1))) ?? null }))),
  at("PUT", "/_testkit/account_data/{userId}/{type}", wrap((ctx) => admin.setAccountData(param(ctx, 0), param(ctx, 1), ctx.body()))),
  at("POST", "/_testkit/reset_backup/{userId}", wrap(async (ctx) => {
    const body = ctx.body()
    return { version: await admin.resetBackupAsOtherDevice(param(ctx, 0), stringAt(body, "algorithm"), body["auth_data"]) }
  })),
  at("GET", "/_testkit/request_log", wrap(async () => ({ entries: await admin.requestLog() }))),
  at("DELETE", "/_testkit/request_log", wrap(() => admin.clearRequestLog())),
]
