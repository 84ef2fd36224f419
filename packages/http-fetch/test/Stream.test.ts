import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import type { HomeserverApi } from "@matrix-backup/core"
import { Chunk, Deferred, Duration, Effect, Either, Fiber, Stream } from "effect"
import { make } from "../src/FetchHomeserverApi.js"
import { configFor, keyBackupData, makeKeys, newVersion, rawServer, reply, withClient, withHarness } from "./support.js"

const V = Ids.BackupVersion.make("1")
const USER = { userId: "@a:b", accessToken: "t" }
const collect = (stream: Stream.Stream<HomeserverApi.RoomKeyEntry, unknown>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)
const id = (roomId: string, sessionId: string) => `${roomId}|${sessionId}`

describe("streamRoomKeys over HTTP", () => {
  it.live("streams every session of the backup, and of one room", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        const keys = makeKeys(1500, 7)
        yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, keys))
        const entries = yield* collect(api.streamRoomKeys(version))
        expect(entries.length).toBe(1500)
        const byId = new Map(keys.map((k) => [id(k.roomId, k.sessionId), k.data]))
        for (const entry of entries) {
          expect(Either.getOrThrow(entry.data)).toEqual(byId.get(id(entry.roomId, entry.sessionId)))
        }
        const room = Ids.RoomId.make("!room3:localhost")
        const roomEntries = yield* collect(api.streamRoomKeys(version, { roomId: room }))
        expect(roomEntries.length).toBe(keys.filter((k) => k.roomId === room).length)
        expect(roomEntries.every((e) => e.roomId === room && Either.isRight(e.data))).toBe(true)
        expect(yield* collect(api.streamRoomKeys(version, { roomId: Ids.RoomId.make("!none:localhost") }))).toEqual([])
      }),
    ),
  )

  it.live("fails with BackupNotFound for an unknown version, and retries a 5xx before the body", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(collect(api.streamRoomKeys(Ids.BackupVersion.make("42"))))
        expect(missing).toMatchObject({ _tag: "BackupNotFound", version: "42" })
        const version = yield* newVersion(admin, user.userId)
        yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, makeKeys(10)))
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", times: 2, match: { path: "/room_keys/keys" } }))
        expect((yield* collect(api.streamRoomKeys(version))).length).toBe(10)
      }),
    ),
  )

  it.live("a reset mid-body fails with TransportError after emitting only complete, valid entries", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        const keys = makeKeys(400, 4)
        yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, keys))
        yield* Effect.promise(() => admin.injectFault({ kind: "resetMidBody", afterBytes: 100_000, match: { path: "/room_keys/keys" } }))
        const seen: Array<HomeserverApi.RoomKeyEntry> = []
        const error = yield* Effect.flip(Stream.runForEach(api.streamRoomKeys(version), (e) => Effect.sync(() => seen.push(e))))
        expect(error).toMatchObject({ _tag: "TransportError", reason: "Network" })
        expect(seen.length).toBeGreaterThan(0)
        expect(seen.length).toBeLessThan(400)
        const byId = new Map(keys.map((k) => [id(k.roomId, k.sessionId), k.data]))
        for (const entry of seen) expect(Either.getOrThrow(entry.data)).toEqual(byId.get(id(entry.roomId, entry.sessionId)))
      }),
    ),
  )

  it.live("surfaces a malformed session as a Left entry and goes on", () =>
    Effect.gen(function* () {
      const good = keyBackupData()
      const body = JSON.stringify({
        rooms: {
          "!r:x": { sessions: { a: good, "b/+": { ...good, first_message_index: -1 }, c: good } },
          "!s:x": { sessions: { d: { session_data: "c2VjcmV0" } } },
        },
      })
      const server = yield* rawServer(reply(200, body))
      const entries = yield* withClient((client) => collect(make(configFor(server.url, USER), client).streamRoomKeys(V)))
      expect(entries.map((e) => [e.roomId, e.sessionId, e.data._tag])).toEqual([
        ["!r:x", "a", "Right"],
        ["!r:x", "b/+", "Left"],
        ["!r:x", "c", "Right"],
        ["!s:x", "d", "Left"],
      ])
      const bad = entries[3]?.data
      if (bad === undefined || Either.isRight(bad)) throw new Error("expected a Left")
      expect(bad.left.summary).toContain("first_message_index")
      expect(JSON.stringify(bad.left)).not.toContain("c2VjcmV0")
    }).pipe(Effect.scoped),
  )

  it.live("fails wrongly shaped or broken bodies with MalformedResponse, keeping entries completed before", () =>
    Effect.gen(function* () {
      const entry = JSON.stringify(keyBackupData())
      const cases: Array<[string, number, string]> = [
        ["[]", 0, "not a JSON object"],
        ['{"foo": 1}', 0, 'missing "rooms"'],
        ['{"rooms": []}', 0, '"rooms" is not an object'],
        ['{"rooms": {"!r": 5}}', 0, "is not an object"],
        ['{"rooms": {"!r": {}}}', 0, 'missing "sessions"'],
        ['{"rooms": {"!r": {"sessions": [1]}}}', 0, '"sessions" is not an object'],
        [`{"rooms": {"!r": {"sessions": {"a": ${entry}, "b": {"first_mess`, 1, "truncated JSON"],
        [`{"rooms": {"!r": {"sessions": {"a": ${entry}, "b": ]}}}`, 1, "invalid JSON"],
        [`{"rooms": {}} {"rooms": {}}`, 0, "after the end"],
      ]
      for (const [body, complete, summary] of cases) {
        const server = yield* rawServer(reply(200, body))
        const seen: Array<HomeserverApi.RoomKeyEntry> = []
        const stream = yield* withClient((client) => Effect.succeed(make(configFor(server.url, USER), client).streamRoomKeys(V)))
        const error = yield* withClient(() => Effect.flip(Stream.runForEach(stream, (e) => Effect.sync(() => seen.push(e)))))
        expect([body, error._tag]).toEqual([body, "MalformedResponse"])
        if (error._tag === "MalformedResponse") expect(error.summary).toContain(summary)
        expect(seen.length).toBe(complete)
      }
      const empty = yield* rawServer(reply(200, '{"rooms": {}, "next": null}'))
      expect(yield* withClient((client) => collect(make(configFor(empty.url, USER), client).streamRoomKeys(V)))).toEqual([])
    }).pipe(Effect.scoped),
  )

  it.live("times out a stalled body", () =>
    withHarness(
      ({ api, admin, user }) =>
        Effect.gen(function* () {
          const version = yield* newVersion(admin, user.userId)
          yield* Effect.promise(() => admin.insertRoomKeys(user.userId, version, makeKeys(20)))
          yield* Effect.promise(() =>
            admin.injectFault({ kind: "slowBody", bytesPerChunk: 2000, delayMs: 1000, match: { path: "/room_keys/keys" } }),
          )
          const error = yield* Effect.flip(collect(api.streamRoomKeys(version)))
          expect(error).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
        }),
      { config: { requestTimeout: Duration.millis(200), retry: { maxAttempts: 1 } } },
    ),
  )

  it.live("interrupting a download after its first entry returns and closes the socket; taking one entry closes it too", () =>
    Effect.gen(function* () {
      const head = `{"rooms": {"!r": {"sessions": {"a": ${JSON.stringify(keyBackupData())}, `
      const server = yield* rawServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.write(head) // and never finish
      })
      const api = yield* withClient((client) => Effect.succeed(make(configFor(server.url, USER), client)))
      const seen: Array<HomeserverApi.RoomKeyEntry> = []
      const first = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        withClient(() => Stream.runForEach(api.streamRoomKeys(V), (e) => Effect.zipRight(Effect.sync(() => seen.push(e)), Deferred.succeed(first, undefined)))),
      )
      yield* Deferred.await(first)
      // Without the abort this would wait for the never-ending body.
      yield* Fiber.interrupt(fiber)
      yield* server.awaitClosedEarly(1)
      expect(server.closedEarly()).toBe(1)
      expect(seen.length).toBe(1)

      const taken = yield* withClient(() => collect(Stream.take(api.streamRoomKeys(V), 1)))
      expect(taken.length).toBe(1)
      yield* server.awaitClosedEarly(2)
      expect(server.closedEarly()).toBe(2)
    }).pipe(Effect.scoped),
  )
})
