// Start-up endpoints a client calls besides keys, answered with Synapse's shapes.
import { describe, expect, it } from "@effect/vitest"
import { registerUser } from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

describe("start-up endpoints", () => {
  const server = useServer()

  it("versions, capabilities, push rules, TURN and third-party protocols", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    const versions = await call(url, "GET", "/_matrix/client/versions")
    expect(versions.body.versions).toContain("v1.11")
    expect((await call(url, "GET", v3("/capabilities"), { token: user.accessToken })).body.capabilities["m.room_versions"].default).toBe("10")
    const rules = await call(url, "GET", v3("/pushrules/"), { token: user.accessToken })
    expect(rules.body.global.override[0]).toMatchObject({ rule_id: ".m.rule.master", enabled: false, default: true })
    expect(rules.body.global.content[0]).toMatchObject({ rule_id: ".m.rule.contains_user_name", pattern: user.userId.slice(1).split(":")[0] })
    expect((await call(url, "GET", v3("/voip/turnServer"), { token: user.accessToken })).body).toEqual({})
    expect((await call(url, "GET", v3("/thirdparty/protocols"), { token: user.accessToken })).body).toEqual({})
    expect((await call(url, "GET", v3("/capabilities"))).status).toBe(401)
  })

  it("filters are numbered per user and owner-only", async () => {
    const user = await registerUser(server.current.url)
    const other = await registerUser(server.current.url)
    const url = server.current.url
    const base = v3(`/user/${encodeURIComponent(user.userId)}/filter`)
    expect((await call(url, "POST", base, { token: user.accessToken, body: { room: { timeline: { limit: 1 } } } })).body).toEqual({ filter_id: "0" })
    expect((await call(url, "GET", `${base}/0`, { token: user.accessToken })).body).toEqual({ room: { timeline: { limit: 1 } } })
    expect((await call(url, "GET", `${base}/7`, { token: user.accessToken })).body.errcode).toBe("M_NOT_FOUND")
    expect((await call(url, "POST", base, { token: other.accessToken, body: {} })).status).toBe(403)
  })

  it("profile, devices and OpenID tokens", async () => {
    const user = await registerUser(server.current.url, { username: "erin" })
    const url = server.current.url
    expect((await call(url, "GET", v3(`/profile/${encodeURIComponent(user.userId)}`), { token: user.accessToken })).body).toEqual({ displayname: "erin" })
    expect((await call(url, "GET", v3("/profile/%40nobody%3Alocalhost"), { token: user.accessToken })).status).toBe(404)
    expect((await call(url, "GET", v3(`/devices/${user.deviceId}`), { token: user.accessToken })).body.device_id).toBe(user.deviceId)
    expect((await call(url, "GET", v3("/devices/NOPE"), { token: user.accessToken })).status).toBe(404)
    const openid = await call(url, "POST", v3(`/user/${encodeURIComponent(user.userId)}/openid/request_token`), { token: user.accessToken, body: {} })
    expect(openid.body).toMatchObject({ token_type: "Bearer", matrix_server_name: "localhost", expires_in: 3600 })
  })
})
