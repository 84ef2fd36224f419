// `/sync` without rooms: account data, to-device messages, own device-list changes and one-time-key
// counts, with Synapse's long-poll (wait up to `timeout` ms for a change) and its omit-if-empty shape.
import type { CoreResponse, JsonObject } from "../Http.js"
import { json } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client } from "../Router.js"
import type { Device, User } from "../State.js"
import { oneTimeKeyCounts, unusedFallbackTypes } from "./KeyStore.js"

const parseSince = (since: string | null): number | undefined => {
  if (since === null) return undefined
  const match = /^s(\d+)$/.exec(since)
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 10)
}

const hasChanges = (user: User, device: Device | undefined, since: number): boolean =>
  user.deviceListPos > since ||
  [...user.accountData.values()].some((entry) => entry.pos > since) ||
  (device?.toDevice.some((message) => message.pos > since) ?? false)

const build = (user: User, device: Device | undefined, since: number | undefined, now: number): JsonObject => {
  const from = since ?? 0
  // Messages up to `since` were delivered and are acknowledged by this request.
  if (device !== undefined && since !== undefined) {
    const kept = device.toDevice.filter((message) => message.pos > since)
    device.toDevice.splice(0, device.toDevice.length, ...kept)
  }
  const response: JsonObject = { next_batch: `s${now}` }
  const accountData = [...user.accountData].filter(([, entry]) => entry.pos > from).map(([type, entry]) => ({ type, content: entry.content }))
  if (accountData.length > 0) response["account_data"] = { events: accountData }
  const toDevice = device?.toDevice.filter((message) => message.pos > from && message.pos <= now).map((message) => message.event) ?? []
  if (toDevice.length > 0) response["to_device"] = { events: toDevice }
  if (since !== undefined && user.deviceListPos > since) response["device_lists"] = { changed: [user.userId] }
  const fallback = device === undefined ? [] : unusedFallbackTypes(device)
  response["device_one_time_keys_count"] = device === undefined ? { signed_curve25519: 0 } : oneTimeKeyCounts(device)
  response["org.matrix.msc2732.device_unused_fallback_key_types"] = fallback
  response["device_unused_fallback_key_types"] = fallback
  return response
}

const sync = async (ctx: RouteContext): Promise<CoreResponse> => {
  const { user, deviceId } = ctx.auth()
  const since = parseSince(ctx.query.get("since"))
  const timeout = Math.max(0, Number.parseInt(ctx.query.get("timeout") ?? "0", 10) || 0)
  const device = user.devices.get(deviceId)
  if (since !== undefined && !hasChanges(user, device, since) && timeout > 0) {
    const deadline = Date.now() + timeout
    while (!hasChanges(user, device, since) && Date.now() < deadline) {
      if (!(await ctx.waitForChange(deadline - Date.now()))) break
    }
  }
  return json(200, build(user, device, since, ctx.state.stream))
}

const sendToDevice = (ctx: RouteContext): CoreResponse => {
  const { user: sender, token } = ctx.auth()
  const [type, txnId] = ctx.params
  const body = ctx.body()
  const seen = ctx.state.txnIds
  const txnKey = `${token}\u0000${txnId ?? ""}`
  if (seen.has(txnKey)) return json(200, {})
  seen.add(txnKey)
  const messages = body["messages"]
  if (typeof messages === "object" && messages !== null) {
    const pos = ctx.bump()
    for (const [userId, byDevice] of Object.entries(messages)) {
      const target = ctx.state.users.get(userId)
      if (target === undefined || typeof byDevice !== "object" || byDevice === null) continue
      for (const [targetDevice, content] of Object.entries(byDevice)) {
        const devices = targetDevice === "*" ? [...target.devices.values()] : [target.devices.get(targetDevice)]
        for (const device of devices) {
          device?.toDevice.push({ pos, event: { type: type ?? "", sender: sender.userId, content } })
        }
      }
    }
  }
  return json(200, {})
}

/** Routes for sync and to-device messaging. */
export const routes: ReadonlyArray<Route> = [
  ...client("GET", "/sync", sync),
  ...client("PUT", "/sendToDevice/{type}/{txnId}", sendToDevice),
]
