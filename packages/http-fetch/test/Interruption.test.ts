import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import { Duration, Effect, Fiber } from "effect"
import { make } from "../src/FetchHomeserverApi.js"
import { configFor, makeKeys, newVersion, rawServer, withClient, withHarness } from "./support.js"

const USER = { userId: "@a:b", accessToken: "t" }

describe("interruption", () => {
  it.live("interrupting a whole-body request returns promptly and closes the socket", () =>
    Effect.gen(function* () {
      let headersSent = false
      const server = yield* rawServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.write('{"rooms": {')
        headersSent = true
      })
      const api = yield* withClient((client) => Effect.succeed(make(configFor(server.url, USER), client)))
      const fiber = yield* Effect.fork(withClient(() => api.getRoomKeys(Ids.BackupVersion.make("1"))))
      while (!headersSent) yield* Effect.sleep(Duration.millis(5))
      yield* Effect.sleep(Duration.millis(20))
      const started = Date.now()
      yield* Fiber.interrupt(fiber)
      // Without the abort this would wait for the never-ending body; 2 s leaves room for a loaded machine.
      expect(Date.now() - started).toBeLessThan(2000)
      for (let i = 0; i < 100 && server.closedEarly() === 0; i++) yield* Effect.sleep(Duration.millis(10))
      expect(server.closedEarly()).toBe(1)
      expect(server.requests.length).toBe(1)
    }).pipe(Effect.scoped),
  )

  it.live("interrupting during a slow fake-server body returns promptly, and the server keeps working", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, makeKeys(50)))
        yield* Effect.promise(() =>
          admin.injectFault({ kind: "slowBody", bytesPerChunk: 512, delayMs: 200, times: 1, match: { path: "/room_keys/keys" } }),
        )
        const fiber = yield* Effect.fork(api.getRoomKeys(version))
        yield* Effect.sleep(Duration.millis(300))
        const started = Date.now()
        yield* Fiber.interrupt(fiber)
        expect(Date.now() - started).toBeLessThan(2000)
        const again = yield* api.getRoomKeys(version)
        expect(Object.values(again.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)).toBe(50)
      }),
    ),
  )
})
