// Interrupting requests: the fetch is aborted at once (the body would never end, so returning at all shows it),
// the socket is closed, and the fake server keeps serving afterwards.
import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import { Deferred, Effect, Fiber } from "effect"
import { make } from "../src/FetchHomeserverApi.js"
import { configFor, makeKeys, newVersion, rawServer, withClient, withHarness } from "./support.js"

const USER = { userId: "@a:b", accessToken: "t" }

describe("interruption", () => {
  it.live("interrupting a whole-body request after its headers arrived returns and closes the socket", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.write('{"rooms": {') // and never finish
      })
      const headers = yield* Deferred.make<void>()
      const api = yield* withClient((client) =>
        Effect.succeed(make(configFor(server.url, USER), HttpClient.tap(client, () => Deferred.succeed(headers, undefined)))),
      )
      const fiber = yield* Effect.fork(withClient(() => api.getRoomKeys(Ids.BackupVersion.make("1"))))
      yield* Deferred.await(headers)
      // Without the abort this would wait for the never-ending body.
      yield* Fiber.interrupt(fiber)
      yield* server.awaitClosedEarly(1)
      expect(server.closedEarly()).toBe(1)
      expect(server.requests.length).toBe(1)
    }).pipe(Effect.scoped),
  )

  it.live("interrupting while the fake server holds a body mid-way returns without waiting for it, and the server keeps working", () =>
    Effect.gen(function* () {
      const headers = yield* Deferred.make<void>()
      yield* withHarness(
        ({ api, admin, user }) =>
          Effect.gen(function* () {
            const version = yield* newVersion(admin, user.userId)
            yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, makeKeys(50)))
            const hold = yield* Effect.promise(() =>
              admin.injectFault({ kind: "hold", afterBytes: 2048, times: 1, match: { path: "/room_keys/keys" } }),
            )
            const fiber = yield* Effect.fork(api.getRoomKeys(version))
            yield* Effect.promise(() => admin.awaitHeld(hold))
            yield* Deferred.await(headers)
            // The rest of the body waits for a release that has not come: returning at all shows the abort.
            yield* Fiber.interrupt(fiber)
            yield* Effect.promise(() => admin.releaseHeld(hold))
            const again = yield* api.getRoomKeys(version)
            expect(Object.values(again.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)).toBe(50)
          }),
        { client: (client) => HttpClient.tap(client, (response) => (response.status === 200 ? Deferred.succeed(headers, undefined) : Effect.void)) },
      )
    }),
  )
})
