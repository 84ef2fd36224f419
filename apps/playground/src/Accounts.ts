/** Account set-up against the homeserver from the page: register (dummy auth stage) and log in as a new device. */

/** A logged-in device. */
export interface Login {
  readonly userId: string
  readonly deviceId: string
  readonly accessToken: string
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

const post = async (url: string, body: unknown) => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  const json: unknown = await response.json().catch(() => ({}))
  return { status: response.status, json: isRecord(json) ? json : {} }
}

const text = (json: Record<string, unknown>, key: string): string => {
  const value = json[key]
  if (typeof value !== "string") throw new Error(`The homeserver's answer has no ${key}`)
  return value
}

const login = (json: Record<string, unknown>): Login => ({
  userId: text(json, "user_id"),
  deviceId: text(json, "device_id"),
  accessToken: text(json, "access_token"),
})

/** Registers `username` with `password`, completing the `m.login.dummy` stage. */
export const register = async (homeserver: string, username: string, password: string): Promise<Login> => {
  const url = `${homeserver}/_matrix/client/v3/register`
  const request = { username, password, initial_device_display_name: "Playground (first device)" }
  const challenge = await post(url, request)
  if (challenge.status !== 401) throw new Error(`Registration failed (HTTP ${challenge.status})`)
  const done = await post(url, { ...request, auth: { type: "m.login.dummy", session: text(challenge.json, "session") } })
  if (done.status !== 200) throw new Error(`Registration failed (HTTP ${done.status})`)
  return login(done.json)
}

/** Logs the user in again: a new device with its own token. */
export const loginNewDevice = async (homeserver: string, userId: string, password: string): Promise<Login> => {
  const done = await post(`${homeserver}/_matrix/client/v3/login`, {
    type: "m.login.password",
    identifier: { type: "m.id.user", user: userId },
    password,
    initial_device_display_name: "Playground (new device)",
  })
  if (done.status !== 200) throw new Error(`Login failed (HTTP ${done.status})`)
  return login(done.json)
}
