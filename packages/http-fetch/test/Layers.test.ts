import { describe, expect, it } from "@effect/vitest"
import { HomeserverApi, HomeserverError } from "@matrix-backup/core"
import { Backoff } from "@matrix-backup/core/adapter"
import { createInProcessHomeserver, FakeHomeserver, registerUser } from "@matrix-backup/testkit"
import { Config, ConfigProvider, Duration, Effect, Layer, Option, Random, Redacted } from "effect"
import { DEFAULT_RETRY, resolve } from "../src/Config.js"
import { layerConfig, layerFetch, make } from "../src/FetchHomeserverApi.js"
import { configFor, rawServer } from "./support.js"
import { backoffOf, equalJitter, retries } from "../src/Retry.js"
import { parseRetryAfter } from "../src/Transport.js"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Ids } from "@matrix-backup/core"

describe("layers", () => {
  it.live("layerFetch serves HomeserverApi over fetch; layerConfig reads its settings from Config", () =>
    Effect.gen(function* () {
      const { url } = yield* FakeHomeserver
      const user = yield* Effect.promise(() => registerUser(url))
      const config = { baseUrl: `${url}/`, accessToken: Redacted.make(user.accessToken), userId: Ids.UserId.make(user.userId) }
      const me = yield* Effect.flatMap(HomeserverApi.HomeserverApi, (api) => api.whoami()).pipe(Effect.provide(layerFetch(config)))
      expect(me.user_id).toBe(user.userId)

      const fromConfig = layerConfig({
        baseUrl: Config.string("HS_URL"),
        accessToken: Config.redacted("HS_TOKEN"),
        userId: Config.string("HS_USER").pipe(Config.map(Ids.UserId.make)),
      }).pipe(Layer.provide(FetchHttpClient.layer))
      const provider = ConfigProvider.fromMap(new Map([["HS_URL", url], ["HS_TOKEN", user.accessToken], ["HS_USER", user.userId]]))
      const again = yield* Effect.flatMap(HomeserverApi.HomeserverApi, (api) => api.whoami()).pipe(
        Effect.provide(fromConfig),
        Effect.withConfigProvider(provider),
      )
      expect(again.device_id).toBe(user.deviceId)
    }).pipe(Effect.provide(FakeHomeserver.layerServer())),
  )

  it.live("works over the testkit's in-process fetch too (no sockets)", () =>
    Effect.gen(function* () {
      const hs = createInProcessHomeserver()
      const user = yield* Effect.promise(() => registerUser(hs.url, { fetch: hs.fetch }))
      const client = yield* HttpClient.HttpClient.pipe(
        Effect.provide(FetchHttpClient.layer),
        Effect.provideService(FetchHttpClient.Fetch, hs.fetch),
      )
      const api = make(configFor(hs.url, user), client)
      const version = yield* api.createBackupVersion({ algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: { public_key: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo" } })
      expect((yield* Effect.promise(() => hs.admin.backupVersions(user.userId))).map((row) => row.version)).toEqual([version])
      yield* Effect.promise(() => hs.stop())
    }),
  )

  it("normalises the base URL and fills defaults", () => {
    const settings = resolve({ baseUrl: "https://hs.example//", accessToken: Redacted.make("x"), userId: Ids.UserId.make("@a:b") })
    expect(settings.clientBase).toBe("https://hs.example/_matrix/client/v3")
    expect(Duration.toMillis(settings.requestTimeout)).toBe(60_000)
    expect(settings.retry).toEqual(DEFAULT_RETRY)
  })

  it.effect("backs off 1 s, 2 s, 4 s, 8 s, 16 s, 16 s with jitter within [d/2, d]", () =>
    Effect.gen(function* () {
      const backoff = yield* Backoff.stepper(backoffOf(DEFAULT_RETRY))
      for (const d of [1000, 2000, 4000, 8000, 16000, 16000]) {
        const full = yield* backoff.next
        expect(Duration.toMillis(full)).toBe(d)
        expect(Duration.toMillis(equalJitter(full, 0))).toBe(d / 2)
        expect(Duration.toMillis(equalJitter(full, 0.999999))).toBeCloseTo(d, -1)
      }
    }),
  )

  it.effect("one request's retries: every retry advances the backoff, a 429 longer than the limit is not retried", () =>
    Effect.gen(function* () {
      const { delayFor } = yield* retries(DEFAULT_RETRY)
      const transient = new HomeserverError.TransportError({ reason: "Network", message: "GET /x" })
      const millis = (delay: Option.Option<Duration.Duration>) => Option.map(delay, Duration.toMillis)
      expect(millis(yield* delayFor(new HomeserverError.RateLimited({ retryAfterMs: 300, message: "GET /x" })))).toEqual(Option.some(300))
      expect(millis(yield* delayFor(transient))).toEqual(Option.some(2000))
      expect(millis(yield* delayFor(transient))).toEqual(Option.some(4000))
      expect(yield* delayFor(new HomeserverError.RateLimited({ retryAfterMs: 61_000, message: "GET /x" }))).toEqual(Option.none())
    }).pipe(Effect.withRandom(Random.fixed([0.999999]))),
  )

  it("parses Retry-After seconds and dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(parseRetryAfter("3", now)).toBe(3000)
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000)
    expect(parseRetryAfter("soon", now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it.live("sends no tracing header, which homeservers' CORS allow-lists would refuse in browsers", () =>
    Effect.gen(function* () {
      const headers: Array<Record<string, unknown>> = []
      const server = yield* rawServer((req, res) => {
        headers.push({ ...req.headers })
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ user_id: "@a:localhost", device_id: "D" }))
      })
      const config = { baseUrl: server.url, accessToken: Redacted.make("token"), userId: Ids.UserId.make("@a:localhost") }
      yield* Effect.flatMap(HomeserverApi.HomeserverApi, (api) => api.whoami()).pipe(Effect.provide(layerFetch(config)), Effect.withSpan("caller"))
      expect(headers).toHaveLength(1)
      expect(Object.keys(headers[0] ?? {})).not.toContain("traceparent")
      expect(headers[0]?.["authorization"]).toBe("Bearer token")
    }).pipe(Effect.scoped),
  )
})
