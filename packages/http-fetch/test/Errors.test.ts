import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import { Clock, Duration, Effect, Fiber, Redacted, TestClock } from "effect"
import { make } from "../src/FetchHomeserverApi.js"
import { configFor, driven, keyBackupData, newVersion, rawServer, reply, withClient, withHarness } from "./support.js"

const ROOM = Ids.RoomId.make("!r:localhost")
const SESSION = Ids.SessionId.make("s")
const statuses = (log: ReadonlyArray<{ status: number }>) => log.map((entry) => entry.status)

describe("errors and retries over HTTP", () => {
  it.live("maps a bad token to Unauthorized without retrying", () =>
    withHarness(({ admin, url, user }) =>
      withClient((client) =>
        Effect.gen(function* () {
          const api = make({ ...configFor(url, user), accessToken: Redacted.make("wrong") }, client)
          const error = yield* Effect.flip(api.getBackupVersion())
          expect(error).toMatchObject({ _tag: "Unauthorized", errcode: "M_UNKNOWN_TOKEN", softLogout: false })
          expect(String(error)).not.toContain(user.accessToken)
          const log = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/"))
          expect(statuses(log)).toEqual([401])
        }),
      ),
    ),
  )

  it.live("maps another user's account data to Forbidden", () =>
    withHarness(({ url, user }) =>
      withClient((client) =>
        Effect.gen(function* () {
          const api = make({ ...configFor(url, user), userId: Ids.UserId.make("@someone:localhost") }, client)
          const error = yield* Effect.flip(api.putAccountData("m.key_backup", { enabled: true }))
          expect(error).toMatchObject({ _tag: "Forbidden", errcode: "M_FORBIDDEN" })
        }),
      ),
    ),
  )

  it.live("maps an oversized upload to TooLarge", () =>
    withHarness(
      ({ api, admin, user }) =>
        Effect.gen(function* () {
          const version = yield* newVersion(admin, user.userId)
          const sessions = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${i}`, keyBackupData()]))
          const error = yield* Effect.flip(api.putRoomKeysForRoom(version, ROOM, { sessions }))
          expect(error).toMatchObject({ _tag: "TooLarge", status: 413 })
        }),
      { server: { maxBodyBytes: 4096 } },
    ),
  )

  it.effect("rides out a 429 storm shorter than the attempt budget, waiting exactly retry_after_ms each time", () =>
    withHarness(({ api, admin }) =>
      Effect.gen(function* () {
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 60, times: 3, match: { path: "/account_data/" } }))
        const started = yield* Clock.currentTimeMillis
        yield* driven(api.putAccountData("m.key_backup", { enabled: true }))
        // The clock moves only to the waits the client asked for: three of 60 ms.
        expect((yield* Clock.currentTimeMillis) - started).toBe(180)
        const log = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("account_data"))
        expect(statuses(log)).toEqual([429, 429, 429, 200])
      }),
    ),
  )

  it.live("gives up with RateLimited when the storm outlasts the attempts, or asks too long a wait", () =>
    withHarness(({ api, admin }) =>
      Effect.gen(function* () {
        const id = yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 5, match: { path: "/whoami" } }))
        expect(yield* Effect.flip(api.whoami())).toMatchObject({ _tag: "RateLimited", retryAfterMs: 5 })
        expect((yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.endsWith("/whoami")).length).toBe(4)
        yield* Effect.promise(() => admin.removeFault(id))
        yield* Effect.promise(() => admin.clearRequestLog())
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 3_600_000, match: { path: "/whoami" } }))
        expect(yield* Effect.flip(api.whoami())).toMatchObject({ _tag: "RateLimited", retryAfterMs: 3_600_000 })
        expect((yield* Effect.promise(() => admin.requestLog())).length).toBe(1)
      }),
    ),
  )

  it.live("retries 5xx with backoff and succeeds; fails with ServerError when 5xx persists", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 503, times: 2, match: { method: "PUT" } }))
        const result = yield* api.putRoomKey(version, ROOM, SESSION, keyBackupData())
        expect(result.count).toBe(1)
        const puts = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.method === "PUT")
        expect(statuses(puts)).toEqual([503, 503, 200])
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", match: { method: "DELETE" } }))
        const error = yield* Effect.flip(api.deleteRoomKeys(version))
        expect(error).toMatchObject({ _tag: "HomeserverError", reason: "ServerError", status: 500 })
        expect((yield* Effect.promise(() => admin.requestLog())).filter((e) => e.method === "DELETE").length).toBe(4)
      }),
    ),
  )

  it.live("sends the bulk PUT /room_keys/keys once, even on 5xx or 429: core's upload loop owns those retries", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        const request = { rooms: { [ROOM]: { sessions: { [SESSION]: keyBackupData() } } } }
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 503, times: 1, match: { method: "PUT" } }))
        expect(yield* Effect.flip(api.putRoomKeys(version, request))).toMatchObject({ _tag: "HomeserverError", reason: "ServerError", status: 503 })
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 5, times: 1, match: { method: "PUT" } }))
        expect(yield* Effect.flip(api.putRoomKeys(version, request))).toMatchObject({ _tag: "RateLimited", retryAfterMs: 5 })
        const puts = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.method === "PUT")
        expect(statuses(puts)).toEqual([503, 429])
      }),
    ),
  )

  it.effect("times out an unanswered request after exactly the request timeout with TransportError Timeout", () =>
    withHarness(
      ({ api, admin }) =>
        Effect.gen(function* () {
          const hold = yield* Effect.promise(() => admin.injectFault({ kind: "hold", match: { path: "/whoami" } }))
          const fiber = yield* Effect.fork(Effect.flip(api.whoami()))
          yield* Effect.promise(() => admin.awaitHeld(hold))
          yield* TestClock.adjust("149 millis")
          expect(fiber.unsafePoll()).toBeNull()
          yield* TestClock.adjust("1 millis")
          expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
          yield* Effect.promise(() => admin.releaseHeld(hold))
        }),
      { config: { requestTimeout: Duration.millis(150), retry: { maxAttempts: 1 } } },
    ),
  )

  it.live("reports a refused connection as TransportError Network after retrying", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const api = make(configFor("http://127.0.0.1:9", { userId: "@a:b", accessToken: "t" }), client)
        expect(yield* Effect.flip(api.whoami())).toMatchObject({ _tag: "TransportError", reason: "Network" })
      }),
    ),
  )

  it.live("maps unknown errcodes to HomeserverError Unrecognised, once, and uses Retry-After", () =>
    Effect.gen(function* () {
      const teapot = yield* rawServer(reply(418, JSON.stringify({ errcode: "ORG_EXAMPLE_TEAPOT", error: "short" })))
      const error = yield* withClient((client) => Effect.flip(make(configFor(teapot.url, { userId: "@a:b", accessToken: "t" }), client).whoami()))
      expect(error).toMatchObject({ _tag: "HomeserverError", reason: "Unrecognised", status: 418, errcode: "ORG_EXAMPLE_TEAPOT" })
      expect(teapot.requests.length).toBe(1)

      let calls = 0
      const limited = yield* rawServer((req, res) => {
        calls += 1
        if (calls === 1) reply(429, "{}", { "retry-after": "0" })(req, res)
        else reply(200, JSON.stringify({ user_id: "@a:b" }))(req, res)
      })
      const me = yield* withClient((client) => make(configFor(limited.url, { userId: "@a:b", accessToken: "t" }), client).whoami())
      expect(me.user_id).toBe("@a:b")
      expect(calls).toBe(2)
    }).pipe(Effect.scoped),
  )

  it.live("reports broken or wrongly shaped 2xx bodies as MalformedResponse without the body", () =>
    Effect.gen(function* () {
      const secretish = "c2VjcmV0LWNpcGhlcnRleHQ"
      const cases: Array<[string, string]> = [
        [`{"version": ${JSON.stringify(secretish)}`, "invalid JSON"],
        [JSON.stringify({ algorithm: 1, auth_data: { public_key: secretish } }), "algorithm"],
        [JSON.stringify([secretish]), "(root)"],
      ]
      for (const [body, expected] of cases) {
        const server = yield* rawServer(reply(200, body))
        const error = yield* withClient((client) =>
          Effect.flip(make(configFor(server.url, { userId: "@a:b", accessToken: "t" }), client).getBackupVersion()),
        )
        expect(error._tag).toBe("MalformedResponse")
        expect(String(error) + JSON.stringify(error)).not.toContain(secretish)
        if (error._tag === "MalformedResponse") expect(error.summary).toContain(expected)
        expect(server.requests.length).toBe(1)
      }
    }).pipe(Effect.scoped),
  )
})
