// FakeHomeserver.layerServer: the Effect way to get a real loopback server, closed with its scope.
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { FakeHomeserver } from "../src/index.js"

describe("FakeHomeserver.layerServer", () => {
  it.effect("serves over loopback through any HttpClient", () =>
    Effect.gen(function* () {
      const { url } = yield* FakeHomeserver
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const client = yield* HttpClient.HttpClient
      const versions = yield* client.get(`${url}/_matrix/client/versions`).pipe(Effect.flatMap((response) => response.json))
      expect(versions).toMatchObject({ versions: expect.arrayContaining(["v1.1"]) })
    }).pipe(Effect.provide(Layer.merge(FakeHomeserver.layerServer(), FetchHttpClient.layer))),
  )

  // it.live: the test uses real time (Effect.sleep under it.effect would wait on the TestClock).
  it.live("stops listening when its scope closes, even with a long-poll open", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(FakeHomeserver.layerServer({ serverName: "scoped.test" }), scope)
      const { url } = context.unsafeMap.get(FakeHomeserver.key) as { url: string }
      const register = yield* Effect.promise(() =>
        fetch(`${url}/_matrix/client/v3/register`, { method: "POST", body: JSON.stringify({ username: "u", auth: { type: "m.login.dummy" } }) }).then((r) => r.json()),
      )
      const since = yield* Effect.promise(() =>
        fetch(`${url}/_matrix/client/v3/sync`, { headers: { authorization: `Bearer ${register.access_token}` } }).then((r) => r.json()).then((body) => String(body.next_batch)),
      )
      const pending = fetch(`${url}/_matrix/client/v3/sync?since=${since}&timeout=30000`, { headers: { authorization: `Bearer ${register.access_token}` } }).catch(() => "aborted")
      yield* Effect.sleep("50 millis")
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - started).toBeLessThan(5000)
      expect(yield* Effect.promise(() => pending)).toBe("aborted")
      const after = yield* Effect.promise(() => fetch(`${url}/_matrix/client/versions`).then(() => "served", () => "refused"))
      expect(after).toBe("refused")
    }),
  )
})
