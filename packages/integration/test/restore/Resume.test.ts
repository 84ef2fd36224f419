// Interrupted restores resume: after a connection reset mid-body, a fiber interruption, an aborted signal or a
// store failure, running the restore again skips the rooms already done, imports every key once, and adds up.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { BackupEvents, BackupStore, HomeserverApi, KeyBackupRestore, RestoreError } from "@matrix-backup/core"
import type { EncodedStore } from "@matrix-backup/core/adapter"
import type { ServerProfileName } from "@matrix-backup/testkit"
import { MemoryEncoded } from "@matrix-backup/core/adapter"
import { cacheKey, seed } from "./fixtures.js"
import { SERVER_PROFILES } from "@matrix-backup/testkit"
import { cryptoLayer, STORE_KINDS, withRestore, withServer } from "./support.js"
import type { StoreKind } from "./support.js"

const COUNT = 1000
const ROOMS = 20

const addsUp = (result: RestoreError.KeyBackupRestoreResult) =>
  expect(result.imported + result.skipped + RestoreError.totalFailures(result.failures)).toBe(result.total)

const countTotal = BackupStore.BackupStore.pipe(Effect.flatMap((store) => store.countTotal()))

/** Seeds the backup, caches its key, and makes the next download slow enough to stop halfway. */
const seedWithSlowDownload = (h: Parameters<Parameters<typeof withRestore>[1]>[0]) =>
  Effect.gen(function* () {
    yield* cacheKey(yield* seed(h.admin, h.user.userId, { count: COUNT, rooms: ROOMS }))
    yield* Effect.promise(() =>
      h.admin.injectFault({ match: { method: "GET", path: "/room_keys/keys" }, kind: "slowBody", bytesPerChunk: 16_384, delayMs: 15, times: 1 }),
    )
  })

/** The resume after a dropped connection on `profile` (the server is reached again on the second run). */
const resumesAfterDrop = (kind: StoreKind, profile: ServerProfileName) =>
  withRestore(kind, (h, restore) =>
    Effect.gen(function* () {
      const seeded = yield* seed(h.admin, h.user.userId, { count: COUNT, rooms: ROOMS })
      yield* cacheKey(seeded)
      yield* Effect.promise(() => h.admin.injectFault({ match: { method: "GET", path: "/room_keys/keys" }, kind: "resetMidBody", afterBytes: 400_000, times: 1 }))
      const error = yield* Effect.flip(restore.restoreKeyBackup({ batchSize: 50 }))
      expect(error.reason).toBe("HomeserverFailure")
      const partial = yield* countTotal
      expect(partial).toBeGreaterThan(0)
      expect(partial).toBeLessThan(COUNT)

      const result = yield* restore.restoreKeyBackup({ batchSize: 50 })
      expect(result.total).toBe(COUNT)
      expect(result.skipped).toBeGreaterThan(0)
      expect(result.imported).toBe(COUNT - result.skipped)
      addsUp(result)
      expect(yield* countTotal).toBe(COUNT)
      const store = yield* BackupStore.BackupStore
      expect(yield* store.countPending(seeded.version)).toBe(0)
      expect(yield* store.getRestoreCheckpoint(seeded.version)).toEqual(new Set())
    }),
    { profile },
  )

// The server-facing case runs on every profile (memory store); the interruptions below are the client's own.
describe.each(SERVER_PROFILES.filter((p) => p !== "synapse"))("resuming a restore on the %s profile", (profile) => {
  it.effect("after the connection drops mid-body", () => resumesAfterDrop("memory", profile))
})

describe.each(STORE_KINDS)("resuming a restore into the %s store", (kind) => {
  it.effect("after the connection drops mid-body", () => resumesAfterDrop(kind, "synapse"))

  it.effect("after the fiber is interrupted", () =>
    withRestore(kind, (h, restore) =>
      Effect.gen(function* () {
        yield* seedWithSlowDownload(h)
        const halfway = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          restore.restoreKeyBackup({
            batchSize: 50,
            onProgress: (p) => {
              if (p.stage === "load_keys" && p.successes >= 300) Effect.runSync(Deferred.succeed(halfway, undefined))
            },
          }),
        )
        yield* Deferred.await(halfway)
        yield* Fiber.interrupt(fiber)
        const partial = yield* countTotal
        expect(partial).toBeLessThan(COUNT)

        const result = yield* restore.restoreKeyBackup()
        expect(result.skipped).toBeGreaterThan(0)
        expect(result.total).toBe(COUNT)
        addsUp(result)
        expect(yield* countTotal).toBe(COUNT)
      }),
    ),
  )

  it.effect("after the AbortSignal fires", () =>
    withRestore(kind, (h, restore) =>
      Effect.gen(function* () {
        yield* seedWithSlowDownload(h)
        const controller = new AbortController()
        const error = yield* Effect.flip(
          restore.restoreKeyBackup({
            batchSize: 50,
            signal: controller.signal,
            onProgress: (p) => {
              if (p.stage === "load_keys" && p.successes >= 300) controller.abort()
            },
          }),
        )
        expect(error.reason).toBe("Aborted")
        expect(yield* countTotal).toBeLessThan(COUNT)
        const already = new AbortController()
        already.abort()
        expect((yield* Effect.flip(restore.restoreKeyBackup({ signal: already.signal }))).reason).toBe("Aborted")

        const result = yield* restore.restoreKeyBackup()
        expect(result.skipped).toBeGreaterThan(0)
        addsUp(result)
        expect(yield* countTotal).toBe(COUNT)
      }),
    ),
  )
})

describe("a store failure", () => {
  it.effect("stops the restore with StoreFailure; the next run resumes and adds up", () =>
    withServer((h) =>
      Effect.gen(function* () {
        const encoded = MemoryEncoded.makeMemoryEncoded()
        let calls = 0
        let broken = true
        const flaky: EncodedStore.Encoded = {
          ...encoded,
          upsertRoomKeys: (keys, backedUpTo, checkpoint) =>
            broken && keys.length > 0 && ++calls === 6
              ? Effect.fail(new BackupStore.StorageError({ reason: "Io", message: "disk full" }))
              : encoded.upsertRoomKeys(keys, backedUpTo, checkpoint),
        }
        const layer = KeyBackupRestore.layer.pipe(
          Layer.provideMerge(
            Layer.mergeAll(Layer.succeed(HomeserverApi.HomeserverApi, h.api), BackupStore.layerEncoded(flaky), cryptoLayer(), BackupEvents.layer),
          ),
        )
        yield* Effect.gen(function* () {
          const restore = yield* KeyBackupRestore.KeyBackupRestore
          const seeded = yield* seed(h.admin, h.user.userId, { count: COUNT, rooms: ROOMS })
          yield* cacheKey(seeded)
          const error = yield* Effect.flip(restore.restoreKeyBackup({ batchSize: 50 }))
          expect(error.reason).toBe("StoreFailure")
          expect(error.cause?._tag).toBe("StorageError")
          broken = false
          const result = yield* restore.restoreKeyBackup({ batchSize: 50 })
          expect(result.skipped).toBeGreaterThan(0)
          expect(result.total).toBe(COUNT)
          addsUp(result)
          expect(yield* countTotal).toBe(COUNT)
        }).pipe(Effect.provide(layer))
      }),
    ),
  )
})
