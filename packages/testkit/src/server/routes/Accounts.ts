// Registration (with Synapse's m.login.dummy user-interactive auth), password login, whoami and
// logout. Access tokens are opaque random strings bound to a (user, device) pair.
import { randomBytes } from "node:crypto"
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, ResponseError, isObject, json, objectAt, stringAt } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { at, client } from "../Router.js"
import type { State, User } from "../State.js"
import { makeDevice, makeUser } from "../State.js"

const randomId = (length: number): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  return [...randomBytes(length)].map((byte) => alphabet[byte % 26]).join("")
}

/** User-interactive auth: throws the 401 challenge until `auth` names an offered stage that `check` accepts. */
export const uiaChallenge = (
  state: State,
  auth: unknown,
  flows: ReadonlyArray<ReadonlyArray<string>>,
  check: (auth: JsonObject) => boolean,
  userId?: string,
): void => {
  const authObject = isObject(auth) ? auth : undefined
  const type = authObject === undefined ? undefined : stringAt(authObject, "type")
  const given = authObject === undefined ? undefined : stringAt(authObject, "session")
  const session = given ?? `uia${randomId(16)}`
  if (!state.uia.has(session)) state.uia.set(session, { userId, completed: false })
  const body = { session, flows: flows.map((stages) => ({ stages })), params: {}, completed: [] }
  if (authObject === undefined || type === undefined) throw new ResponseError(json(401, body))
  if (!flows.some((stages) => stages.includes(type))) {
    throw new MatrixError(400, "M_UNRECOGNIZED", `Unrecognised login type: ${type}`)
  }
  if (!check(authObject)) {
    throw new ResponseError(json(401, { ...body, errcode: "M_FORBIDDEN", error: "Invalid password" }))
  }
  state.uia.delete(session)
}

/** Issues a token for a (possibly new) device of `user`. */
export const issueToken = (state: State, user: User, deviceId: string | undefined, displayName: string | undefined): { accessToken: string; deviceId: string } => {
  const id = deviceId ?? randomId(10)
  let device = user.devices.get(id)
  if (device === undefined) {
    device = makeDevice(id, displayName)
    user.devices.set(id, device)
    user.deviceListPos = state.stream + 1
  }
  const accessToken = `syt_${Buffer.from(user.userId).toString("base64url")}_${randomId(20)}`
  state.tokens.set(accessToken, { userId: user.userId, deviceId: id })
  return { accessToken, deviceId: id }
}

const register = (ctx: RouteContext): CoreResponse => {
  const body = ctx.body()
  const kind = ctx.query.get("kind") ?? "user"
  if (kind !== "user") throw new MatrixError(403, "M_FORBIDDEN", "Guest access is disabled")
  const username = stringAt(body, "username")
  const localpart = (username ?? randomId(8)).toLowerCase()
  if (!/^[a-z0-9._=\-/+]+$/.test(localpart)) {
    throw new MatrixError(400, "M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'")
  }
  const userId = `@${localpart}:${ctx.state.serverName}`
  if (ctx.state.users.has(userId)) throw new MatrixError(400, "M_USER_IN_USE", "User ID already taken.")
  uiaChallenge(ctx.state, body["auth"], [["m.login.dummy"]], () => true)
  const user = makeUser(userId, stringAt(body, "password"))
  ctx.state.users.set(userId, user)
  if (body["inhibit_login"] === true) {
    ctx.bump()
    return json(200, { user_id: userId, home_server: ctx.state.serverName })
  }
  const issued = issueToken(ctx.state, user, stringAt(body, "device_id"), stringAt(body, "initial_device_display_name"))
  ctx.bump()
  return json(200, { user_id: userId, home_server: ctx.state.serverName, access_token: issued.accessToken, device_id: issued.deviceId })
}

/** Finds a user from a login identifier (`m.id.user` or legacy `user`), full id or localpart. */
export const identifyUser = (state: State, body: JsonObject): User | undefined => {
  const identifier = objectAt(body, "identifier")
  const name = stringAt(identifier, "type") === "m.id.user" ? stringAt(identifier, "user") : stringAt(body, "user")
  if (name === undefined) return undefined
  const userId = name.startsWith("@") ? name : `@${name.toLowerCase()}:${state.serverName}`
  return state.users.get(userId)
}

const login = (ctx: RouteContext): CoreResponse => {
  const body = ctx.body()
  if (stringAt(body, "type") !== "m.login.password") throw new MatrixError(400, "M_UNKNOWN", "Unknown login type")
  const user = identifyUser(ctx.state, body)
  const password = stringAt(body, "password")
  if (user === undefined || password === undefined || user.password !== password) {
    throw new MatrixError(403, "M_FORBIDDEN", "Invalid username or password")
  }
  const issued = issueToken(ctx.state, user, stringAt(body, "device_id"), stringAt(body, "initial_device_display_name"))
  ctx.bump()
  return json(200, { user_id: user.userId, access_token: issued.accessToken, home_server: ctx.state.serverName, device_id: issued.deviceId })
}

const logout = (ctx: RouteContext): CoreResponse => {
  const { user, deviceId, token } = ctx.auth()
  ctx.state.tokens.delete(token)
  // Synapse deletes the device (and its keys) on logout.
  user.devices.delete(deviceId)
  user.deviceListPos = ctx.bump()
  return json(200, {})
}

const logoutAll = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  for (const [token, session] of ctx.state.tokens) if (session.userId === user.userId) ctx.state.tokens.delete(token)
  user.devices.clear()
  user.deviceListPos = ctx.bump()
  return json(200, {})
}

/** Routes for accounts. */
export const routes: ReadonlyArray<Route> = [
  ...client("POST", "/register", register),
  ...client("GET", "/register/available", (ctx) => {
    const name = ctx.query.get("username") ?? ""
    if (ctx.state.users.has(`@${name.toLowerCase()}:${ctx.state.serverName}`)) throw new MatrixError(400, "M_USER_IN_USE", "User ID already taken.")
    return json(200, { available: true })
  }),
  ...client("GET", "/login", () => json(200, { flows: [{ type: "m.login.password" }] })),
  ...client("POST", "/login", login),
  ...client("GET", "/account/whoami", (ctx) => {
    const { userId, deviceId } = ctx.auth()
    return json(200, { user_id: userId, is_guest: false, device_id: deviceId })
  }),
  ...client("POST", "/logout", logout),
  ...client("POST", "/logout/all", logoutAll),
  at("GET", "/_matrix/client/versions", () =>
    json(200, {
      versions: ["r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12"],
      unstable_features: { "org.matrix.e2e_cross_signing": true, "org.matrix.msc3882": false },
    }),
  ),
]
