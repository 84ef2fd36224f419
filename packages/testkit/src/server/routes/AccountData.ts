// Global and per-room account data (`/user/{userId}/account_data/{type}`), as in docs/PROTOCOL.md §6.1:
// only the owner may read or write it; server-managed types cannot be PUT.
import type { CoreResponse } from "../Http.js"
import { MatrixError, forbidden, json, notFound } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client, param } from "../Router.js"
import type { AccountDataEntry, User } from "../State.js"
import { defaultPushRules } from "./PushRules.js"

const owner = (ctx: RouteContext, verb: "get" | "add"): User => {
  const { user } = ctx.auth()
  if (param(ctx, 0) !== user.userId) throw forbidden(`Cannot ${verb} account data for other users.`)
  return user
}

const roomMap = (user: User, roomId: string): Map<string, AccountDataEntry> => {
  let map = user.roomAccountData.get(roomId)
  if (map === undefined) {
    map = new Map()
    user.roomAccountData.set(roomId, map)
  }
  return map
}

const read = (map: Map<string, AccountDataEntry> | undefined, type: string): CoreResponse => {
  const entry = map?.get(type)
  if (entry === undefined) throw notFound("Account data not found")
  return json(200, entry.content)
}

const write = (ctx: RouteContext, map: Map<string, AccountDataEntry>, type: string): CoreResponse => {
  if (type === "m.fully_read") {
    throw new MatrixError(405, "M_BAD_JSON", "Cannot set m.fully_read through this API. Use /rooms/!roomId:server.name/read_markers")
  }
  if (type === "m.push_rules") throw new MatrixError(405, "M_BAD_JSON", "Cannot set m.push_rules through this API. Use /pushrules")
  const content = ctx.body()
  map.set(type, { content, pos: ctx.bump() })
  return json(200, {})
}

/** Routes for account data. */
export const routes: ReadonlyArray<Route> = [
  ...client("GET", "/user/{userId}/account_data/{type}", (ctx) => {
    const user = owner(ctx, "get")
    if (param(ctx, 1) === "m.push_rules" && !user.accountData.has("m.push_rules")) return json(200, defaultPushRules(user.userId))
    return read(user.accountData, param(ctx, 1))
  }),
  ...client("PUT", "/user/{userId}/account_data/{type}", (ctx) => write(ctx, owner(ctx, "add").accountData, param(ctx, 1))),
  ...client("GET", "/user/{userId}/rooms/{roomId}/account_data/{type}", (ctx) =>
    read(owner(ctx, "get").roomAccountData.get(param(ctx, 1)), param(ctx, 2)),
  ),
  ...client("PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}", (ctx) =>
    write(ctx, roomMap(owner(ctx, "add"), param(ctx, 1)), param(ctx, 2)),
  ),
]
