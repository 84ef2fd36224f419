// Device keys: `/keys/upload`, `/keys/query`, `/keys/claim`, `/keys/changes` (Synapse shapes; the
// query returns the caller's own cross-signing keys with every signature merged in).
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, isObject, json, objectAt } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client } from "../Router.js"
import type { Device, User } from "../State.js"
import { oneTimeKeyCounts } from "./KeyStore.js"

const uploadDeviceKeys = (ctx: RouteContext, user: User, device: Device, keys: JsonObject): void => {
  if (keys["user_id"] !== user.userId) throw new MatrixError(400, "M_INVALID_PARAM", "User ID in device keys does not match authenticated user")
  if (keys["device_id"] !== device.deviceId) throw new MatrixError(400, "M_INVALID_PARAM", "Device ID in device keys does not match authenticated device")
  if (JSON.stringify(keys) === JSON.stringify(device.keys)) return
  device.keys = keys
  user.deviceListPos = ctx.bump()
}

const upload = (ctx: RouteContext): CoreResponse => {
  const { user, deviceId } = ctx.auth()
  const device = user.devices.get(deviceId)
  if (device === undefined) throw new MatrixError(400, "M_UNKNOWN", "Device not found")
  const body = ctx.body()
  const deviceKeys = body["device_keys"]
  if (isObject(deviceKeys)) uploadDeviceKeys(ctx, user, device, deviceKeys)
  for (const [keyId, key] of Object.entries(objectAt(body, "one_time_keys"))) {
    const existing = device.oneTimeKeys.get(keyId)
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(key)) {
      throw new MatrixError(400, "M_UNKNOWN", `One time key ${keyId} already exists. Old key: ${JSON.stringify(existing)}; new key: ${JSON.stringify(key)}`)
    }
    device.oneTimeKeys.set(keyId, key)
  }
  const fallback = { ...objectAt(body, "org.matrix.msc2732.fallback_keys"), ...objectAt(body, "fallback_keys") }
  for (const [keyId, key] of Object.entries(fallback)) {
    const algorithm = keyId.split(":")[0] ?? keyId
    device.fallbackKeys.set(algorithm, { keyId, key, used: false })
  }
  return json(200, { one_time_key_counts: oneTimeKeyCounts(device) })
}

const deviceKeysFor = (user: User, wanted: unknown): JsonObject => {
  const result: JsonObject = {}
  const ids = Array.isArray(wanted) && wanted.length > 0 ? wanted : [...user.devices.keys()]
  for (const id of ids) {
    const device = typeof id === "string" ? user.devices.get(id) : undefined
    if (device?.keys === undefined) continue
    const unsigned = device.displayName === undefined ? {} : { device_display_name: device.displayName }
    result[device.deviceId] = { ...device.keys, unsigned: { ...objectAt(device.keys, "unsigned"), ...unsigned } }
  }
  return result
}

const query = (ctx: RouteContext): CoreResponse => {
  const caller = ctx.auth().user
  const body = ctx.body()
  const deviceKeys: JsonObject = {}
  const masters: JsonObject = {}
  const selfSigning: JsonObject = {}
  const userSigning: JsonObject = {}
  for (const [userId, wanted] of Object.entries(objectAt(body, "device_keys"))) {
    const user = ctx.state.users.get(userId)
    if (user === undefined) {
      deviceKeys[userId] = {}
      continue
    }
    deviceKeys[userId] = deviceKeysFor(user, wanted)
    const master = user.crossSigning.get("master")
    const ssk = user.crossSigning.get("self_signing")
    const usk = user.crossSigning.get("user_signing")
    if (master !== undefined) masters[userId] = master
    if (ssk !== undefined) selfSigning[userId] = ssk
    // Only the owner sees their user-signing key.
    if (usk !== undefined && userId === caller.userId) userSigning[userId] = usk
  }
  return json(200, { device_keys: deviceKeys, failures: {}, master_keys: masters, self_signing_keys: selfSigning, user_signing_keys: userSigning })
}

const claimOne = (device: Device, algorithm: string): JsonObject | undefined => {
  for (const [keyId, key] of device.oneTimeKeys) {
    if (keyId.startsWith(`${algorithm}:`)) {
      device.oneTimeKeys.delete(keyId)
      return { [keyId]: key }
    }
  }
  const fallback = device.fallbackKeys.get(algorithm)
  if (fallback === undefined) return undefined
  fallback.used = true
  return { [fallback.keyId]: fallback.key }
}

const claim = (ctx: RouteContext): CoreResponse => {
  ctx.auth()
  const result: JsonObject = {}
  for (const [userId, byDevice] of Object.entries(objectAt(ctx.body(), "one_time_keys"))) {
    const user = ctx.state.users.get(userId)
    if (user === undefined || !isObject(byDevice)) continue
    const claimed: JsonObject = {}
    for (const [deviceId, algorithm] of Object.entries(byDevice)) {
      const device = user.devices.get(deviceId)
      const key = device === undefined || typeof algorithm !== "string" ? undefined : claimOne(device, algorithm)
      if (key !== undefined) claimed[deviceId] = key
    }
    result[userId] = claimed
  }
  return json(200, { one_time_keys: result, failures: {} })
}

const changes = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  const from = /^s(\d+)$/.exec(ctx.query.get("from") ?? "")
  const to = /^s(\d+)$/.exec(ctx.query.get("to") ?? "")
  if (from?.[1] === undefined || to?.[1] === undefined) throw new MatrixError(400, "M_INVALID_PARAM", "Invalid from/to token")
  const start = Number.parseInt(from[1], 10)
  const end = Number.parseInt(to[1], 10)
  const changed = user.deviceListPos > start && user.deviceListPos <= end ? [user.userId] : []
  return json(200, { changed, left: [] })
}

/** Routes for device keys. */
export const routes: ReadonlyArray<Route> = [
  ...client("POST", "/keys/upload", upload),
  ...client("POST", "/keys/upload/{deviceId}", upload),
  ...client("POST", "/keys/query", query),
  ...client("POST", "/keys/claim", claim),
  ...client("GET", "/keys/changes", changes),
]
