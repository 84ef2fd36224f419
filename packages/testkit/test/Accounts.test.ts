// Accounts over loopback HTTP: registration's user-interactive auth, login, whoami, logout and the
// token rules (header or query parameter, never both).
import { describe, expect, it } from "@effect/vitest"
import { loginNewDevice, registerUser } from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

describe("accounts", () => {
  const server = useServer()

  it("register: 401 with the dummy flow and a session, then 200 with user, token and device", async () => {
    const url = server.current.url
    const challenge = await call(url, "POST", v3("/register"), { body: { username: "Alice", password: "pw" } })
    expect(challenge.status).toBe(401)
    expect(challenge.body).toMatchObject({ flows: [{ stages: ["m.login.dummy"] }], params: {}, session: expect.any(String) })
    const done = await call(url, "POST", v3("/register"), {
      body: { username: "Alice", password: "pw", device_id: "DEV1", initial_device_display_name: "Phone", auth: { type: "m.login.dummy", session: challenge.body.session } },
    })
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ user_id: "@alice:localhost", device_id: "DEV1", access_token: expect.any(String), home_server: "localhost" })
    const whoami = await call(url, "GET", v3("/account/whoami"), { token: String(done.body.access_token) })
    expect(whoami.body).toEqual({ user_id: "@alice:localhost", device_id: "DEV1", is_guest: false })
    const devices = await call(url, "GET", v3("/devices"), { token: String(done.body.access_token) })
    expect(devices.body.devices).toEqual([expect.objectContaining({ device_id: "DEV1", display_name: "Phone" })])
    const taken = await call(url, "POST", v3("/register"), { body: { username: "alice", password: "x", auth: { type: "m.login.dummy" } } })
    expect([taken.status, taken.body.errcode]).toEqual([400, "M_USER_IN_USE"])
    const invalid = await call(url, "POST", v3("/register"), { body: { username: "bad name", auth: { type: "m.login.dummy" } } })
    expect(invalid.body.errcode).toBe("M_INVALID_USERNAME")
  })

  it("register with inhibit_login returns no token", async () => {
    const reply = await call(server.current.url, "POST", v3("/register"), { body: { username: "bob", password: "pw", inhibit_login: true, auth: { type: "m.login.dummy" } } })
    expect(reply.body).toEqual({ user_id: "@bob:localhost", home_server: "localhost" })
  })

  it("login by m.id.user identifier or legacy user, a new device each time unless device_id is given", async () => {
    const url = server.current.url
    const user = await registerUser(url, { username: "carol", password: "secret" })
    const first = await loginNewDevice(url, user)
    const legacy = await call(url, "POST", v3("/login"), { body: { type: "m.login.password", user: "carol", password: "secret" } })
    expect(legacy.body.user_id).toBe("@carol:localhost")
    expect(new Set([user.deviceId, first.deviceId, legacy.body.device_id]).size).toBe(3)
    const again = await loginNewDevice(url, user, { deviceId: first.deviceId })
    expect(again.deviceId).toBe(first.deviceId)
    const wrong = await call(url, "POST", v3("/login"), { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "carol" }, password: "nope" } })
    expect([wrong.status, wrong.body.errcode]).toEqual([403, "M_FORBIDDEN"])
    const flows = await call(url, "GET", v3("/login"))
    expect(flows.body).toEqual({ flows: [{ type: "m.login.password" }] })
    expect((await call(url, "POST", v3("/login"), { body: { type: "m.login.token", token: "x" } })).body.errcode).toBe("M_UNKNOWN")
  })

  it("tokens: header or access_token query; missing, unknown, mixed and logged-out tokens are 401", async () => {
    const url = server.current.url
    const user = await registerUser(url)
    expect((await call(url, "GET", v3(`/account/whoami?access_token=${user.accessToken}`))).body.user_id).toBe(user.userId)
    expect((await call(url, "GET", v3("/account/whoami"))).body).toEqual({ errcode: "M_MISSING_TOKEN", error: "Missing access token." })
    const unknown = await call(url, "GET", v3("/account/whoami"), { token: "syt_nope" })
    expect([unknown.status, unknown.body.errcode, unknown.body.soft_logout]).toEqual([401, "M_UNKNOWN_TOKEN", false])
    const mixed = await call(url, "GET", v3(`/account/whoami?access_token=${user.accessToken}`), { token: user.accessToken })
    expect([mixed.status, mixed.body.errcode]).toEqual([401, "M_MISSING_TOKEN"])
    const second = await loginNewDevice(url, user)
    expect((await call(url, "POST", v3("/logout"), { token: second.accessToken })).body).toEqual({})
    expect((await call(url, "GET", v3("/account/whoami"), { token: second.accessToken })).body.errcode).toBe("M_UNKNOWN_TOKEN")
    expect((await call(url, "GET", v3("/account/whoami"), { token: user.accessToken })).status).toBe(200)
    const devices = await call(url, "GET", v3("/devices"), { token: user.accessToken })
    expect(devices.body.devices).toEqual([expect.objectContaining({ device_id: user.deviceId })])
    await call(url, "POST", v3("/logout/all"), { token: user.accessToken })
    expect((await call(url, "GET", v3("/account/whoami"), { token: user.accessToken })).status).toBe(401)
  })

  it("users have the configured server name", async () => {
    const { startFakeHomeserver } = await import("../src/index.js")
    const other = await startFakeHomeserver({ serverName: "example.org" })
    try {
      expect((await registerUser(other.url, { username: "dave" })).userId).toBe("@dave:example.org")
    } finally {
      await other.stop()
    }
  })
})
