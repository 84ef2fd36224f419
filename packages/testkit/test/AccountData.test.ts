// Account data over loopback HTTP (PROTOCOL §6.1): owner-only access, 404 when never set, 405 for
// server-managed types, and delivery through /sync.
import { describe, expect, it } from "@effect/vitest"
import { registerUser } from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

describe("account data", () => {
  const server = useServer()
  const path = (userId: string, type: string) => v3(`/user/${encodeURIComponent(userId)}/account_data/${encodeURIComponent(type)}`)

  it("404 until set, then returns the content; {} stays {} (clients treat it as deleted)", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    expect((await call(url, "GET", path(user.userId, "m.secret_storage.default_key"), { token: user.accessToken })).body).toEqual({ errcode: "M_NOT_FOUND", error: "Account data not found" })
    expect((await call(url, "PUT", path(user.userId, "m.secret_storage.default_key"), { token: user.accessToken, body: { key: "abc" } })).body).toEqual({})
    expect((await call(url, "GET", path(user.userId, "m.secret_storage.default_key"), { token: user.accessToken })).body).toEqual({ key: "abc" })
    await call(url, "PUT", path(user.userId, "m.secret_storage.default_key"), { token: user.accessToken, body: {} })
    expect((await call(url, "GET", path(user.userId, "m.secret_storage.default_key"), { token: user.accessToken })).body).toEqual({})
    expect(await server.current.admin.accountData(user.userId, "m.secret_storage.default_key")).toEqual({})
  })

  it("403 M_FORBIDDEN for another user's data; 405 for m.fully_read and m.push_rules", async () => {
    const alice = await registerUser(server.current.url)
    const bob = await registerUser(server.current.url)
    const url = server.current.url
    await call(url, "PUT", path(alice.userId, "m.x"), { token: alice.accessToken, body: { a: 1 } })
    expect((await call(url, "GET", path(alice.userId, "m.x"), { token: bob.accessToken })).body.errcode).toBe("M_FORBIDDEN")
    expect((await call(url, "PUT", path(alice.userId, "m.x"), { token: bob.accessToken, body: {} })).status).toBe(403)
    expect((await call(url, "PUT", path(alice.userId, "m.fully_read"), { token: alice.accessToken, body: {} })).status).toBe(405)
    expect((await call(url, "PUT", path(alice.userId, "m.push_rules"), { token: alice.accessToken, body: {} })).status).toBe(405)
    expect((await call(url, "GET", path(alice.userId, "m.push_rules"), { token: alice.accessToken })).body.global).toBeDefined()
  })

  it("room account data is separate from global account data", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    const room = v3(`/user/${encodeURIComponent(user.userId)}/rooms/${encodeURIComponent("!r:localhost")}/account_data/m.tag`)
    expect((await call(url, "PUT", room, { token: user.accessToken, body: { tags: {} } })).status).toBe(200)
    expect((await call(url, "GET", room, { token: user.accessToken })).body).toEqual({ tags: {} })
    expect((await call(url, "GET", path(user.userId, "m.tag"), { token: user.accessToken })).status).toBe(404)
  })
})
