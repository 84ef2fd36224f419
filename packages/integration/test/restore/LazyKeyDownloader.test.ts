// The lazy per-session downloader against the fake over loopback HTTP: dedup, negative cache, one request per
// room for a burst of misses, backoff under a 429 storm, and pausing until a matching key is cached.
// Waits run on the TestClock: the tests move it (`driven`) while the real HTTP exchanges take their turns.
import { describe, expect, it } from "@effect/vitest"
import type { Context } from "effect"
import { Clock, Effect, Fiber, Layer, TestClock } from "effect"
import { BackupEvents, BackupStore, LazyKeyDownloader } from "@matrix-backup/core"
import { drivenByTestClock, ioTurn } from "@matrix-backup/testkit"
import { cacheKey, seed } from "./fixtures.js"
import type { Harness } from "./support.js"
import { portsLayer, withServer } from "./support.js"

type Downloader = Context.Tag.Service<LazyKeyDownloader.LazyKeyDownloader>

const withDownloader = <A, E>(
  options: LazyKeyDownloader.LazyKeyDownloaderOptions,
  f: (h: Harness, downloader: Downloader) => Effect.Effect<A, E, BackupStore.BackupStore | BackupEvents.BackupEvents>,
) =>
  withServer((h) =>
    Effect.flatMap(LazyKeyDownloader.LazyKeyDownloader, (d) => f(h, d)).pipe(
      Effect.provide(LazyKeyDownloader.layerWith(options).pipe(Layer.provideMerge(portsLayer(h.api, "memory")))),
    ),
  )

const keyRequests = (h: Harness) =>
  Effect.map(Effect.promise(() => h.admin.requestLog()), (log) => log.filter((e) => e.path.includes("/room_keys/keys")))

const driven = drivenByTestClock


/** Repeats `check` (letting I/O run between tries) until it holds. */
const until = <E, R>(check: Effect.Effect<boolean, E, R>): Effect.Effect<void, E, R> =>
  Effect.flatMap(check, (ok) => (ok ? Effect.void : Effect.zipRight(ioTurn, until(check))))

describe("LazyKeyDownloader", () => {
  it.effect("thousands of missing keys in one room asked within the gather window take one per-room request, deduplicated", () =>
    withDownloader({}, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 3000, rooms: 1 })
        yield* cacheKey(seeded)
        const asks = [...seeded.keys, ...seeded.keys.slice(0, 500)]
        const all = yield* Effect.fork(Effect.forEach(asks, (k) => downloader.requestKey(k.room_id, k.session_id), { concurrency: "unbounded" }))
        // Every key is asked (the 500 repeats join the first asks) before the 20 ms gather window can close.
        yield* until(Effect.map(downloader.pendingCount, (n) => n === 3000))
        const results = yield* driven(Fiber.join(all))
        expect(results.every((r) => r._tag === "Imported")).toBe(true)
        const requests = yield* keyRequests(h)
        expect(requests.map((e) => e.path)).toEqual([`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(seeded.keys[0]?.room_id ?? "")}`])
        expect(yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.countTotal()))).toBe(3000)
        expect(yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.countPending(seeded.version)))).toBe(0)
        expect(yield* downloader.pendingCount).toBe(0)
      }),
    ),
  )

  it.effect("a single missing key is one per-session request; an absent key is negatively cached for exactly the TTL", () =>
    withDownloader({ negativeCacheTtl: "300 millis" }, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 10, rooms: 1 })
        yield* cacheKey(seeded)
        const first = seeded.keys[0]
        if (first === undefined) throw new Error("no key")
        expect(yield* driven(downloader.requestKey(first.room_id, first.session_id))).toEqual({ _tag: "Imported" })
        const one = yield* keyRequests(h)
        expect(one.map((e) => e.path)).toEqual([`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(first.room_id)}/${encodeURIComponent(first.session_id)}`])

        // The clock stands still from the answer on, so the TTL counts from here.
        expect(yield* driven(downloader.requestKey(first.room_id, "absentSession"))).toEqual({ _tag: "NotInBackup" })
        expect(yield* downloader.requestKey(first.room_id, "absentSession")).toEqual({ _tag: "NotInBackup" })
        expect((yield* keyRequests(h)).length).toBe(2)
        yield* TestClock.adjust("299 millis")
        expect(yield* downloader.requestKey(first.room_id, "absentSession")).toEqual({ _tag: "NotInBackup" })
        expect((yield* keyRequests(h)).length).toBe(2)
        yield* TestClock.adjust("1 millis")
        expect(yield* driven(downloader.requestKey(first.room_id, "absentSession"))).toEqual({ _tag: "NotInBackup" })
        expect((yield* keyRequests(h)).length).toBe(3)
      }),
    ),
  )

  it.effect("backs off under a 429 storm instead of hammering the server, then imports everything", () =>
    withDownloader({ maxConcurrent: 4 }, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 40, rooms: 8 })
        yield* cacheKey(seeded)
        yield* Effect.promise(() => h.admin.injectFault({ match: { path: "/room_keys/keys" }, kind: "rateLimit", retryAfterMs: 100, times: 12 }))
        const started = yield* Clock.currentTimeMillis
        const results = yield* driven(Effect.forEach(seeded.keys, (k) => downloader.requestKey(k.room_id, k.session_id), { concurrency: "unbounded" }))
        expect(results.every((r) => r._tag === "Imported")).toBe(true)
        const requests = yield* keyRequests(h)
        const limited = requests.filter((e) => e.status === 429).length
        expect(limited).toBe(12)
        // 8 rooms need 8 successful requests; nothing beyond the 12 refused ones is wasted.
        expect(requests.length).toBe(12 + 8)
        // Four workers share one hold: 12 refusals at 100 ms cannot all overlap.
        expect((yield* Clock.currentTimeMillis) - started).toBeGreaterThanOrEqual(300)
      }),
    ),
  )

  it.effect("pauses while no matching key is cached and resumes when one is", () =>
    withDownloader({}, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 5, rooms: 1 })
        yield* cacheKey({ version: seeded.version, privateKey: new Uint8Array(32).fill(3) })
        const first = seeded.keys[0]
        if (first === undefined) throw new Error("no key")
        yield* Effect.promise(() => h.admin.clearRequestLog())
        const fiber = yield* Effect.fork(downloader.requestKey(first.room_id, first.session_id))
        // The request makes the monitor check the server's version against the cached (wrong) key ...
        yield* until(Effect.map(Effect.promise(() => h.admin.requestLog()), (log) => log.some((e) => e.path.endsWith("/room_keys/version"))))
        // ... and however long it then waits (well past the gather window and the 5 s retry), nothing is fetched.
        yield* TestClock.adjust("9 seconds")
        expect(fiber.unsafePoll()).toBeNull()
        expect(yield* keyRequests(h)).toEqual([])
        yield* cacheKey(seeded)
        const events = yield* BackupEvents.BackupEvents
        yield* events.publish({ name: BackupEvents.CryptoEvent.KeyBackupDecryptionKeyCached, version: seeded.version })
        expect(yield* driven(Fiber.join(fiber))).toEqual({ _tag: "Imported" })
      }),
    ),
  )
})
