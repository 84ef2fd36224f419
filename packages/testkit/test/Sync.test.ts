// /sync without rooms: Synapse's omit-if-empty shape, long-poll with timeout and early wake-up,
// account data, to-device delivery and acknowledgement, and own device-list changes.
import { describe, expect, it } from "@effect/vitest"
import { registerUser } from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

describe("sync", () => {
  const server = useServer()

  it("initial sync: next_batch, account data, one-time-key counts; empty sections omitted", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    await call(url, "PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.a`), { token: user.accessToken, body: { a: 1 } })
    const sync = await call(url, "GET", v3("/sync"), { token: user.accessToken })
    expect(sync.body).toEqual({
      next_batch: expect.stringMatching(/^s\d+$/),
      account_data: { events: [{ type: "m.a", content: { a: 1 } }] },
      device_one_time_keys_count: { signed_curve25519: 0 },
      device_unused_fallback_key_types: [],
      "org.matrix.msc2732.device_unused_fallback_key_types": [],
    })
  })

  it("long-polls up to `timeout` when nothing changed, and wakes early on a change", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    const first = await call(url, "GET", v3("/sync"), { token: user.accessToken })
    const since = String(first.body.next_batch)
    let started = Date.now()
    const idle = await call(url, "GET", v3(`/sync?since=${since}&timeout=300`), { token: user.accessToken })
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(idle.body.next_batch).toBe(since)
    expect(idle.body.account_data).toBeUndefined()
    started = Date.now()
    const waiting = call(url, "GET", v3(`/sync?since=${since}&timeout=10000`), { token: user.accessToken })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await call(url, "PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.b`), { token: user.accessToken, body: { b: 2 } })
    const woken = await waiting
    expect(Date.now() - started).toBeLessThan(5000)
    expect(woken.body.account_data).toEqual({ events: [{ type: "m.b", content: { b: 2 } }] })
    expect(woken.body.next_batch).not.toBe(since)
  })

  it("a client leaving a long-poll does not hurt the server", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    const since = String((await call(url, "GET", v3("/sync"), { token: user.accessToken })).body.next_batch)
    const controller = new AbortController()
    const pending = fetch(`${url}${v3(`/sync?since=${since}&timeout=30000`)}`, { headers: { authorization: `Bearer ${user.accessToken}` }, signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort()
    await expect(pending).rejects.toThrow()
    expect((await call(url, "GET", v3("/account/whoami"), { token: user.accessToken })).status).toBe(200)
  })

  it("to-device messages reach the target device once and are acknowledged by the next sync", async () => {
    const alice = await registerUser(server.current.url)
    const bob = await registerUser(server.current.url)
    const url = server.current.url
    const since = String((await call(url, "GET", v3("/sync"), { token: alice.accessToken })).body.next_batch)
    const body = { messages: { [alice.userId]: { [alice.deviceId]: { hello: "world" } } } }
    expect((await call(url, "PUT", v3("/sendToDevice/m.test/txn1"), { token: bob.accessToken, body })).body).toEqual({})
    await call(url, "PUT", v3("/sendToDevice/m.test/txn1"), { token: bob.accessToken, body })
    const got = await call(url, "GET", v3(`/sync?since=${since}`), { token: alice.accessToken })
    expect(got.body.to_device).toEqual({ events: [{ type: "m.test", sender: bob.userId, content: { hello: "world" } }] })
    const next = await call(url, "GET", v3(`/sync?since=${String(got.body.next_batch)}`), { token: alice.accessToken })
    expect(next.body.to_device).toBeUndefined()
  })

  it("own device-key changes appear in device_lists.changed and /keys/changes", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    const since = String((await call(url, "GET", v3("/sync"), { token: user.accessToken })).body.next_batch)
    const keys = { user_id: user.userId, device_id: user.deviceId, algorithms: [], keys: { [`ed25519:${user.deviceId}`]: "k" } }
    await call(url, "POST", v3("/keys/upload"), { token: user.accessToken, body: { device_keys: keys } })
    const sync = await call(url, "GET", v3(`/sync?since=${since}`), { token: user.accessToken })
    expect(sync.body.device_lists).toEqual({ changed: [user.userId] })
    const changes = await call(url, "GET", v3(`/keys/changes?from=${since}&to=${String(sync.body.next_batch)}`), { token: user.accessToken })
    expect(changes.body).toEqual({ changed: [user.userId], left: [] })
  })
})
