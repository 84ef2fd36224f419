// Restores into a RoomKeySink other than the store: batches carry their backup version, per-key failures are seen
// as they happen and listed in the result, a sink failure stops the run, and restoreWithKey needs no store at all.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { backupPublicKeyFromPrivate } from "@matrix-backup/testkit"
import { CryptoBackend, KeyBackupRestore, RestoreWithKey, RoomKeySink } from "@matrix-backup/core"
import { cacheKey, seed, storedKeys } from "./fixtures.js"
import { BROKEN_KINDS, brokenEntries, cryptoLayer, newBackupKey, portsLayer, withRestore, withServer } from "./support.js"

/** A sink that records every batch it is given. */
const recordingSink = () => {
  const batches: Array<RoomKeySink.RoomKeyBatch> = []
  const sink = RoomKeySink.make((batch) => Effect.sync(() => void batches.push(batch)))
  return { batches, sink }
}

const keyIds = (batches: ReadonlyArray<RoomKeySink.RoomKeyBatch>) => batches.flatMap((b) => b.keys.map((k) => `${k.roomId}|${k.sessionId}`))

describe("restore into a custom RoomKeySink", () => {
  it.effect("gets every good key in batches with their version; the store gets none; failures are seen and listed", () =>
    withRestore("memory", (h, restore) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 450, rooms: 5 })
        const broken = brokenEntries(backupPublicKeyFromPrivate(seeded.privateKey))
        yield* Effect.promise(() => h.admin.insertRoomKeys(h.user.userId, seeded.version, broken))
        yield* cacheKey(seeded)
        const { batches, sink } = recordingSink()
        const seen: Array<{ readonly roomId: string; readonly sessionId: string; readonly reason: string; readonly version: string }> = []
        const result = yield* restore.restoreKeyBackup({ sink, batchSize: 100, onFailure: (f) => seen.push(f) })

        expect(result).toMatchObject({ total: 450 + BROKEN_KINDS.length, imported: 450, skipped: 0 })
        expect(new Set(batches.map((b) => b.version))).toEqual(new Set([seeded.version]))
        expect(batches.every((b) => b.keys.length <= 100)).toBe(true)
        expect(keyIds(batches).sort()).toEqual(seeded.keys.map((k) => `${k.room_id}|${k.session_id}`).sort())
        expect(yield* storedKeys).toHaveLength(0)

        const expected = broken.map((b) => ({ roomId: b.roomId, sessionId: b.sessionId })).sort((a, b) => a.sessionId.localeCompare(b.sessionId))
        const bySession = (a: { readonly sessionId: string }, b: { readonly sessionId: string }) => a.sessionId.localeCompare(b.sessionId)
        expect(seen.map(({ roomId, sessionId }) => ({ roomId, sessionId })).sort(bySession)).toEqual(expected)
        expect(seen.every((f) => f.version === seeded.version)).toBe(true)
        expect(result.failed.map(({ roomId, sessionId }) => ({ roomId, sessionId })).sort(bySession)).toEqual(expected)
        expect(result.failed.map((f) => f.reason).sort()).toEqual(seen.map((f) => f.reason).sort())
      }),
    ),
  )

  it.effect("a RoomKeySink in the layer replaces the store sink for every restore", () =>
    withServer((h) => {
      const { batches, sink } = recordingSink()
      const layer = KeyBackupRestore.layer.pipe(
        Layer.provideMerge(Layer.merge(portsLayer(h.api, "memory"), Layer.succeed(RoomKeySink.RoomKeySink, sink))),
      )
      return Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 120, rooms: 3 })
        yield* cacheKey(seeded)
        const result = yield* (yield* KeyBackupRestore.KeyBackupRestore).restoreKeyBackup()
        expect(result.imported).toBe(120)
        expect(keyIds(batches)).toHaveLength(120)
        expect(yield* storedKeys).toHaveLength(0)
      }).pipe(Effect.provide(layer))
    }),
  )

  it.effect("a sink that fails stops the run with StoreFailure and its error as the cause", () =>
    withRestore("memory", (h, restore) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 300, rooms: 3 })
        yield* cacheKey(seeded)
        let calls = 0
        const sink = RoomKeySink.make(() => (++calls === 2 ? Effect.fail(new RoomKeySink.RoomKeySinkError({ message: "full" })) : Effect.void))
        const error = yield* Effect.flip(restore.restoreKeyBackup({ sink, batchSize: 100 }))
        expect(error).toMatchObject({ reason: "StoreFailure", version: seeded.version, cause: { _tag: "RoomKeySinkError", message: "full" } })
        expect(calls).toBe(2)
      }),
    ),
  )
})

describe("restoreWithKey: the caller holds the key, no store involved", () => {
  it.effect("restores the server's current version into the sink", () =>
    withServer((h) =>
      Effect.gen(function* () {
        const seeded = yield* seed(h.admin, h.user.userId, { count: 250, rooms: 4 })
        const { batches, sink } = recordingSink()
        const backend = yield* CryptoBackend.CryptoBackend
        const progress: Array<string> = []
        const result = yield* RestoreWithKey.restoreWithKey({ api: h.api, backend, sink }, Redacted.make(seeded.privateKey), {
          onProgress: (p) => progress.push(p.stage),
        })
        expect(result).toMatchObject({ total: 250, imported: 250, failed: [] })
        expect(keyIds(batches)).toHaveLength(250)
        expect(batches.every((b) => b.version === seeded.version)).toBe(true)
        expect(progress[0]).toBe("fetch")
        expect(progress.at(-1)).toBe("load_keys")
      }).pipe(Effect.provide(cryptoLayer())),
    ),
  )

  it.effect("a key that does not match fails with DecryptionKeyDoesNotMatch before any download", () =>
    withServer((h) =>
      Effect.gen(function* () {
        yield* seed(h.admin, h.user.userId, { count: 20 })
        const { batches, sink } = recordingSink()
        const backend = yield* CryptoBackend.CryptoBackend
        const error = yield* Effect.flip(RestoreWithKey.restoreWithKey({ api: h.api, backend, sink }, Redacted.make(newBackupKey())))
        expect(error.reason).toBe("DecryptionKeyDoesNotMatch")
        expect(batches).toHaveLength(0)
        const log = yield* Effect.promise(() => h.admin.requestLog())
        expect(log.filter((e) => e.path.includes("/room_keys/keys"))).toHaveLength(0)
      }).pipe(Effect.provide(cryptoLayer())),
    ),
  )
})
