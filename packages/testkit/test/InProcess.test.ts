// The in-process transport: the same core behind an Effect HttpClient (and a plain fetch), without
// sockets. Each test gets its own fake (layers are provided per test).
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeHomeserver, createInProcessHomeserver, registerUser } from "../src/index.js"

const ALG = "m.megolm_backup.v1.curve25519-aes-sha2"

const session = (fmi: number) => ({ first_message_index: fmi, forwarded_count: 0, is_verified: false, session_data: { ciphertext: String(fmi) } })

describe("in-process transport", () => {
  it.effect("room keys through HttpClient: same semantics as over loopback", () =>
    Effect.gen(function* () {
      const { url, admin } = yield* FakeHomeserver
      const client = yield* HttpClient.HttpClient
      const fetchJson = (request: HttpClientRequest.HttpClientRequest) =>
        client.execute(request).pipe(Effect.flatMap((response) => Effect.map(response.json, (body) => ({ status: response.status, body }))))
      const first = yield* fetchJson(HttpClientRequest.post(`${url}/_matrix/client/v3/register`).pipe(HttpClientRequest.bodyUnsafeJson({ username: "ip" })))
      expect(first.status).toBe(401)
      const done = yield* fetchJson(HttpClientRequest.post(`${url}/_matrix/client/v3/register`).pipe(HttpClientRequest.bodyUnsafeJson({ username: "ip", auth: { type: "m.login.dummy" } })))
      const token = String((done.body as { access_token: string }).access_token)
      const authed = (request: HttpClientRequest.HttpClientRequest) => fetchJson(HttpClientRequest.bearerToken(request, token))
      yield* authed(HttpClientRequest.post(`${url}/_matrix/client/v3/room_keys/version`).pipe(HttpClientRequest.bodyUnsafeJson({ algorithm: ALG, auth_data: {} })))
      yield* authed(HttpClientRequest.post(`${url}/_matrix/client/v3/room_keys/version`).pipe(HttpClientRequest.bodyUnsafeJson({ algorithm: ALG, auth_data: {} })))
      const put = yield* authed(HttpClientRequest.put(`${url}/_matrix/client/v3/room_keys/keys/${encodeURIComponent("!r:x")}/${encodeURIComponent("a/b+c")}?version=2`).pipe(HttpClientRequest.bodyUnsafeJson(session(3))))
      expect(put.body).toEqual({ etag: "1", count: 1 })
      const wrong = yield* authed(HttpClientRequest.put(`${url}/_matrix/client/v3/room_keys/keys?version=1`).pipe(HttpClientRequest.bodyUnsafeJson({ rooms: {} })))
      expect(wrong).toEqual({ status: 403, body: { errcode: "M_WRONG_ROOM_KEYS_VERSION", error: "Wrong room_keys version", current_version: "2" } })
      const all = yield* authed(HttpClientRequest.get(`${url}/_matrix/client/v3/room_keys/keys?version=2`))
      expect(all.body).toEqual({ rooms: { "!r:x": { sessions: { "a/b+c": session(3) } } } })
      const keys = yield* Effect.promise(() => admin.roomKeys("@ip:localhost", "2"))
      expect(keys).toEqual([{ roomId: "!r:x", sessionId: "a/b+c", data: session(3) }])
    }).pipe(Effect.provide(FakeHomeserver.layerInProcess())),
  )

  it.effect("faults apply in process too: 429, then a body cut mid-stream fails the read", () =>
    Effect.gen(function* () {
      const { url, admin } = yield* FakeHomeserver
      const client = yield* HttpClient.HttpClient
      yield* Effect.promise(() => admin.injectFault({ match: { path: "/versions" }, kind: "rateLimit", retryAfterMs: 10, times: 1 }))
      const limited = yield* client.get(`${url}/_matrix/client/versions`)
      expect(limited.status).toBe(429)
      yield* Effect.promise(() => admin.injectFault({ match: { path: "/versions" }, kind: "resetMidBody", afterBytes: 10, times: 1 }))
      const cut = yield* client.get(`${url}/_matrix/client/versions`).pipe(Effect.flatMap((response) => response.text), Effect.flip)
      expect(cut._tag).toBe("ResponseError")
      const ok = yield* client.get(`${url}/_matrix/client/versions`).pipe(Effect.flatMap((response) => response.json))
      expect(ok).toMatchObject({ versions: expect.arrayContaining(["v1.1"]) })
      const log = yield* Effect.promise(() => admin.requestLog())
      expect(log.map((entry) => [entry.status, entry.faults])).toEqual([[429, ["rateLimit"]], [200, ["resetMidBody"]], [200, []]])
    }).pipe(Effect.provide(FakeHomeserver.layerInProcess())),
  )

  it("createInProcessHomeserver gives a fetch for Promise callers (fixtures accept it)", async () => {
    const fake = createInProcessHomeserver()
    const user = await registerUser(fake.url, { fetch: fake.fetch })
    const whoami = await fake.fetch(`${fake.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${user.accessToken}` } })
    expect(await whoami.json()).toMatchObject({ user_id: user.userId, device_id: user.deviceId })
    await expect(fake.fetch("http://elsewhere.invalid/")).rejects.toThrow(TypeError)
    const since = (await (await fake.fetch(`${fake.url}/_matrix/client/v3/sync`, { headers: { authorization: `Bearer ${user.accessToken}` } })).json()).next_batch
    const started = Date.now()
    const polling = fake.fetch(`${fake.url}/_matrix/client/v3/sync?since=${since}&timeout=30000`, { headers: { authorization: `Bearer ${user.accessToken}` } })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await fake.stop()
    // Stopping ends pending long-polls at once.
    expect((await polling).status).toBe(200)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
