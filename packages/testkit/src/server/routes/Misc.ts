// What a client asks for at start-up besides keys: capabilities, filters, devices, profile,
// TURN, presence, OpenID tokens and third-party protocols, answered with Synapse's shapes.
import { randomBytes } from "node:crypto"
import type { CoreResponse } from "../Http.js"
import { forbidden, isObject, json, notFound, stringAt } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client, param } from "../Router.js"
import type { Device, User } from "../State.js"

const capabilities = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  return json(200, {
    capabilities: {
      "m.room_versions": { default: "10", available: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"].map((v) => [v, "stable"])) },
      "m.change_password": { enabled: true },
      "m.set_displayname": { enabled: true },
      "m.set_avatar_url": { enabled: true },
      "m.3pid_changes": { enabled: true },
      "m.get_login_token": { enabled: false },
    },
  })
}

const ownUser = (ctx: RouteContext, message: string): User => {
  const { user } = ctx.auth()
  if (param(ctx, 0) !== user.userId) throw forbidden(message)
  return user
}

const deviceJson = (user: User, device: Device): Record<string, unknown> => ({
  user_id: user.userId,
  device_id: device.deviceId,
  display_name: device.displayName ?? null,
  last_seen_ip: null,
  last_seen_ts: null,
})

const profile = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  const userId = param(ctx, 0)
  if (!ctx.state.users.has(userId)) throw notFound("Profile was not found")
  // Synapse sets the display name to the localpart at registration.
  return json(200, { displayname: userId.slice(1).split(":")[0] ?? userId })
}

/** Routes for the rest of a client's start-up. */
export const routes: ReadonlyArray<Route> = [
  ...client("GET", "/capabilities", capabilities),
  ...client("POST", "/user/{userId}/filter", (ctx) => {
    const user = ownUser(ctx, "Can only create filters for local users")
    user.filters.push(ctx.body())
    return json(200, { filter_id: String(user.filters.length - 1) })
  }),
  ...client("GET", "/user/{userId}/filter/{filterId}", (ctx) => {
    const user = ownUser(ctx, "Cannot get filters for other users")
    const filter = user.filters[Number.parseInt(param(ctx, 1), 10)]
    if (!/^\d+$/.test(param(ctx, 1)) || filter === undefined) throw notFound("No such filter")
    return json(200, filter)
  }),
  ...client("GET", "/devices", (ctx) => {
    const { user } = ctx.auth()
    return json(200, { devices: [...user.devices.values()].map((device) => deviceJson(user, device)) })
  }),
  ...client("GET", "/devices/{deviceId}", (ctx) => {
    const { user } = ctx.auth()
    const device = user.devices.get(param(ctx, 0))
    if (device === undefined) throw notFound("No device found")
    return json(200, deviceJson(user, device))
  }),
  ...client("PUT", "/devices/{deviceId}", (ctx) => {
    const { user } = ctx.auth()
    const device = user.devices.get(param(ctx, 0))
    if (device === undefined) throw notFound("No device found")
    const name = stringAt(ctx.body(), "display_name")
    if (name !== undefined) device.displayName = name
    user.deviceListPos = ctx.bump()
    return json(200, {})
  }),
  ...client("GET", "/profile/{userId}", profile),
  ...client("GET", "/profile/{userId}/displayname", profile),
  ...client("GET", "/voip/turnServer", (ctx) => {
    ctx.auth()
    return json(200, {})
  }),
  ...client("PUT", "/presence/{userId}/status", (ctx) => {
    ownUser(ctx, "Can only set your own presence state")
    if (!isObject(ctx.body())) throw forbidden("bad presence")
    return json(200, {})
  }),
  ...client("POST", "/user/{userId}/openid/request_token", (ctx) => {
    ownUser(ctx, "Cannot request tokens for other users.")
    return json(200, { access_token: randomBytes(16).toString("hex"), token_type: "Bearer", matrix_server_name: ctx.state.serverName, expires_in: 3600 })
  }),
  ...client("GET", "/thirdparty/protocols", (ctx) => {
    ctx.auth()
    return json(200, {})
  }),
]
