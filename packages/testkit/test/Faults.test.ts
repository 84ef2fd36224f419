// Fault injection over loopback HTTP: latency, 429, 5xx, mid-body resets and slow bodies, with
// method/path matching, `times` and `nth`, injected at start, at run time and over `/_testkit`.
import { describe, expect, it } from "@effect/vitest"
import { connectAdmin, seedBackup, generateRoomKeys, startFakeHomeserver } from "../src/index.js"
import { call, clientFor, newUser, useServer, v3 } from "./support.js"

const ALG = "m.megolm_backup.v1.curve25519-aes-sha2"

describe("faults", () => {
  const server = useServer()

  it("latency delays the matching request only", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await server.current.admin.injectFault({ match: { path: "/room_keys/version" }, kind: "latency", ms: 1000 })
    const started = Date.now()
    expect((await api("GET", v3("/room_keys/version"))).status).toBe(404)
    expect(Date.now() - started).toBeGreaterThanOrEqual(990)
    // Far below the injected latency, with room for a loaded CI machine.
    const quick = Date.now()
    await api("GET", v3("/account/whoami"))
    expect(Date.now() - quick).toBeLessThan(900)
  })

  it("rateLimit answers 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After, without running the handler", async () => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    await server.current.admin.injectFault({ match: { method: "POST", path: /\/room_keys\/version$/ }, kind: "rateLimit", retryAfterMs: 1500, times: 1 })
    const limited = await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: {} })
    expect(limited.status).toBe(429)
    expect(limited.body).toEqual({ errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: 1500 })
    expect(limited.headers.get("retry-after")).toBe("2")
    expect(await server.current.admin.backupVersions(user.userId)).toEqual([])
    expect((await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: {} })).body).toEqual({ version: "1" })
  })

  it("serverError with `nth` fails only the Nth matching request; the log shows which", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await server.current.admin.clearRequestLog()
    await server.current.admin.injectFault({ match: { method: "GET", path: "/account/whoami" }, kind: "serverError", status: 502, nth: 2 })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await api("GET", v3("/account/whoami"))).status)
    expect(statuses).toEqual([200, 502, 200, 200])
    const log = await server.current.admin.requestLog()
    expect(log.map((entry) => [entry.status, entry.faults])).toEqual([[200, []], [502, ["serverError"]], [200, []], [200, []]])
  })

  it("`times` limits how often a fault fires, and clearFaults removes all", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await server.current.admin.injectFault({ kind: "serverError", times: 2, match: { path: "whoami" } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await api("GET", v3("/account/whoami"))).status)
    expect(statuses).toEqual([500, 500, 200])
    await server.current.admin.injectFault({ kind: "serverError", match: { path: "whoami" } })
    expect((await api("GET", v3("/account/whoami"))).status).toBe(500)
    await server.current.admin.clearFaults()
    expect((await api("GET", v3("/account/whoami"))).status).toBe(200)
  })

  it("resetMidBody destroys the socket after the handler ran: the client sees a network error", async () => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: {} })
    await seedBackup(server.current.admin, user.userId, { backupPublicKey: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", keys: generateRoomKeys(300, { rooms: 2 }) })
    await server.current.admin.injectFault({ match: { path: "/room_keys/keys" }, kind: "resetMidBody", afterBytes: 5000, times: 1 })
    const response = await fetch(`${server.current.url}${v3("/room_keys/keys?version=1")}`, { headers: { authorization: `Bearer ${user.accessToken}` } })
    expect(response.status).toBe(200)
    const reader = response.body?.getReader()
    let received = 0
    const drain = async (): Promise<void> => {
      for (;;) {
        const next = await reader?.read()
        if (next === undefined || next.done) return
        received += next.value.byteLength
      }
    }
    await expect(drain()).rejects.toThrow()
    expect(received).toBe(5000)
    // The next request works and gets the whole body.
    const whole = await api("GET", v3("/room_keys/keys?version=1"))
    expect(Object.values(whole.body.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)).toBe(300)
  })

  it("resetMidBody on a buffered body cuts it inside the declared Content-Length", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await server.current.admin.injectFault({ match: { path: "/pushrules/" }, kind: "resetMidBody" })
    await expect(api("GET", v3("/pushrules/"))).rejects.toThrow()
    expect((await api("GET", v3("/account/whoami"))).status).toBe(200)
  })

  it("slowBody delivers the body in small delayed chunks, intact", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await server.current.admin.injectFault({ match: { path: "/capabilities" }, kind: "slowBody", bytesPerChunk: 64, delayMs: 20 })
    const started = Date.now()
    const reply = await api("GET", v3("/capabilities"))
    expect(reply.body.capabilities["m.change_password"]).toEqual({ enabled: true })
    const chunks = Math.ceil(JSON.stringify(reply.body).length / 64)
    expect(Date.now() - started).toBeGreaterThanOrEqual((chunks - 1) * 20)
  })

  it("faults given at start apply from the first request", async () => {
    const other = await startFakeHomeserver({ faults: [{ kind: "serverError", status: 503, match: { path: "/versions" }, times: 1 }] })
    try {
      expect((await call(other.url, "GET", "/_matrix/client/versions")).status).toBe(503)
      expect((await call(other.url, "GET", "/_matrix/client/versions")).status).toBe(200)
    } finally {
      await other.stop()
    }
  })

  it("the admin API over HTTP injects faults (RegExp paths too) and reads state", async () => {
    const user = await newUser(server)
    const admin = connectAdmin(server.current.url)
    const id = await admin.injectFault({ match: { path: /whoami$/i }, kind: "rateLimit" })
    const api = clientFor(server.current.url, user)
    expect((await api("GET", v3("/account/whoami"))).status).toBe(429)
    await admin.removeFault(id)
    expect((await api("GET", v3("/account/whoami"))).status).toBe(200)
    await api("PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.test`), { a: 1 })
    expect(await admin.accountData(user.userId, "m.test")).toEqual({ a: 1 })
    expect(await admin.accountData(user.userId, "m.unset")).toBeUndefined()
    expect(await admin.resetBackupAsOtherDevice(user.userId)).toBe("1")
    await admin.insertRoomKeys(user.userId, "1", [{ roomId: "!r:x", sessionId: "s", data: { first_message_index: 0, forwarded_count: 0, is_verified: false, session_data: { a: 1 } } }])
    expect(await admin.roomKeys(user.userId, "1")).toEqual([{ roomId: "!r:x", sessionId: "s", data: { first_message_index: 0, forwarded_count: 0, is_verified: false, session_data: { a: 1 } } }])
    expect((await admin.backupVersions(user.userId))[0]).toMatchObject({ version: "1", count: 1, deleted: false })
    expect((await admin.requestLog()).some((entry) => entry.path.startsWith("/_testkit"))).toBe(false)
    await expect(admin.roomKeys("@nobody:localhost", "1")).rejects.toThrow(/404/)
  })
})
