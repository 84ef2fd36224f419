// The lazy per-session downloader against the fake over loopback HTTP: dedup, negative cache, one request per
// room for a burst of misses, backoff under a 429 storm, and pausing until a matching key is cached.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { BackupEvents, BackupStore, LazyKeyDownloader } from "@matrix-backup/core"
import { cacheKey, seed } from "./fixtures.js"
import type { Harness } from "./support.js"
import { portsLayer, withServer } from "./support.js"

type Downloader = LazyKeyDownloader.LazyKeyDownloader["Type"]

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

describe("LazyKeyDownloader", () => {
  it.live("thousands of missing keys in one room take one per-room request, deduplicated", () =>
    withDownloader({}, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 3000, rooms: 1 })
        yield* cacheKey(seeded)
        const asks = [...seeded.keys, ...seeded.keys.slice(0, 500)]
        const results = yield* Effect.forEach(asks, (k) => downloader.requestKey(k.room_id, k.session_id), { concurrency: "unbounded" })
        expect(results.every((r) => r._tag === "Imported")).toBe(true)
        const requests = yield* keyRequests(h)
        expect(requests.length).toBeLessThanOrEqual(2)
        expect(yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.countTotal()))).toBe(3000)
        expect(yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.countPending(seeded.version)))).toBe(0)
        expect(yield* downloader.pendingCount).toBe(0)
      }),
    ),
  )

  it.live("a single missing key is one per-session request; an absent key is negatively cached for the TTL", () =>
    withDownloader({ negativeCacheTtl: "300 millis" }, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 10, rooms: 1 })
        yield* cacheKey(seeded)
        const first = seeded.keys[0]
        if (first === undefined) throw new Error("no key")
        expect(yield* downloader.requestKey(first.room_id, first.session_id)).toEqual({ _tag: "Imported" })
        const one = yield* keyRequests(h)
        expect(one.map((e) => e.path)).toEqual([`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(first.room_id)}/${encodeURIComponent(first.session_id)}`])

        expect(yield* downloader.requestKey(first.room_id, "absentSession")).toEqual({ _tag: "NotInBackup" })
        expect(yield* downloader.requestKey(first.room_id, "absentSession")).toEqual({ _tag: "NotInBackup" })
        expect((yield* keyRequests(h)).length).toBe(2)
        yield* Effect.sleep("400 millis")
        expect(yield* downloader.requestKey(first.room_id, "absentSession")).toEqual({ _tag: "NotInBackup" })
        expect((yield* keyRequests(h)).length).toBe(3)
      }),
    ),
  )

  it.live("backs off under a 429 storm instead of hammering the server, then imports everything", () =>
    withDownloader({ maxConcurrent: 4 }, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 40, rooms: 8 })
        yield* cacheKey(seeded)
        yield* Effect.promise(() => h.admin.injectFault({ match: { path: "/room_keys/keys" }, kind: "rateLimit", retryAfterMs: 100, times: 12 }))
        const started = Date.now()
        const results = yield* Effect.forEach(seeded.keys, (k) => downloader.requestKey(k.room_id, k.session_id), { concurrency: "unbounded" })
        expect(results.every((r) => r._tag === "Imported")).toBe(true)
        const requests = yield* keyRequests(h)
        const limited = requests.filter((e) => e.status === 429).length
        expect(limited).toBe(12)
        // 8 rooms need 8 successful requests; nothing beyond the 12 refused ones is wasted.
        expect(requests.length).toBe(12 + 8)
        // Four workers share one hold: 12 refusals at 100 ms cannot all overlap.
        expect(Date.now() - started).toBeGreaterThanOrEqual(300)
      }),
    ),
  )

  it.live("pauses while no matching key is cached and resumes when one is", () =>
    withDownloader({}, (h, downloader) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 5, rooms: 1 })
        const wrong = yield* cacheKey({ version: seeded.version, privateKey: new Uint8Array(32).fill(3) })
        void wrong
        const first = seeded.keys[0]
        if (first === undefined) throw new Error("no key")
        const fiber = yield* Effect.fork(downloader.requestKey(first.room_id, first.session_id))
        yield* Effect.sleep("200 millis")
        expect(fiber.unsafePoll()).toBeNull()
        expect(yield* keyRequests(h)).toEqual([])
        yield* cacheKey(seeded)
        const events = yield* BackupEvents.BackupEvents
        yield* events.publish({ name: BackupEvents.CryptoEvent.KeyBackupDecryptionKeyCached, version: seeded.version })
        expect(yield* Fiber.join(fiber)).toEqual({ _tag: "Imported" })
      }),
    ),
  )
})
