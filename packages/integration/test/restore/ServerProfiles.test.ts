// Restores on every server profile the testkit imitates: the whole backup lands in the store, equal to the server's
// keys, in a bounded number of requests; a version deleted while it downloads fails as BackupVersionNotFound
// (Synapse and Dendrite answer 404, conduwuit and tuwunel 200 with no rooms), never as a restore of 0 keys.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { SERVER_PROFILES } from "@matrix-backup/testkit"
import { BackupStore, Ids } from "@matrix-backup/core"
import { cacheKey, sameKey, seed, storedKeys } from "./fixtures.js"
import { withRestore } from "./support.js"

const roomKeysRequests = (admin: { readonly requestLog: () => Promise<ReadonlyArray<{ readonly path: string }>> }) =>
  Effect.map(Effect.promise(() => admin.requestLog()), (log) => log.filter((e) => e.path.includes("/room_keys/")))

describe.each(SERVER_PROFILES)("restore on the %s profile", (profile) => {
  it.effect("the whole backup lands in the store, equal to the server's keys, in two requests", () =>
    withRestore(
      "memory",
      (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 300, rooms: 6 })
          yield* cacheKey(seeded)
          yield* Effect.promise(() => h.admin.clearRequestLog())
          const result = yield* restore.restoreKeyBackup()
          expect(result).toMatchObject({ total: 300, imported: 300, skipped: 0 })
          const stored = yield* storedKeys
          const server = yield* Effect.promise(() => h.admin.roomKeys(h.user.userId, seeded.version))
          expect(new Set(stored.map((k) => `${k.roomId}|${k.sessionId}`))).toEqual(new Set(server.map((k) => `${k.roomId}|${k.sessionId}`)))
          const byId = new Map(seeded.keys.map((k) => [`${k.room_id}|${k.session_id}`, k]))
          expect(stored.every((k) => { const original = byId.get(`${k.roomId}|${k.sessionId}`); return original !== undefined && sameKey(k, original) })).toBe(true)
          expect(yield* Effect.flatMap(BackupStore.BackupStore, (store) => store.countPending(seeded.version))).toBe(0)
          // GET /room_keys/version/{v} to check the key, then one streamed GET of every key; no re-check needed.
          expect((yield* roomKeysRequests(h.admin)).length).toBe(2)
        }),
      { profile },
    ),
  )

  it.effect("a version deleted while it downloads fails as BackupVersionNotFound; nothing is imported", () =>
    withRestore(
      "memory",
      (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 120, rooms: 3 })
          yield* cacheKey(seeded)
          const hold = yield* Effect.promise(() => h.admin.injectFault({ kind: "hold", times: 1, match: { method: "GET", path: "/room_keys/keys" } }))
          const running = yield* Effect.fork(Effect.flip(restore.restoreKeyBackup()))
          yield* Effect.promise(() => h.admin.awaitHeld(hold))
          yield* h.api.deleteBackupVersion(Ids.BackupVersion.make(seeded.version))
          yield* Effect.promise(() => h.admin.releaseHeld(hold))
          const error = yield* Fiber.join(running)
          expect(error).toMatchObject({ _tag: "RestoreError", reason: "BackupVersionNotFound", version: seeded.version })
          expect(error.message).toBe(`Backup version ${seeded.version} was deleted on the server during the restore`)
          expect(yield* Effect.flatMap(BackupStore.BackupStore, (store) => store.countTotal())).toBe(0)
        }),
      { profile },
    ),
  )
})

describe.each(["conduwuit", "tuwunel"] as const)("a deleted version that still reads some keys on the %s profile", (profile) => {
  // A delete racing an upload leaves the keys the upload wrote after it under the version's id, and these servers
  // read them back for the deleted version. Only the version's own answer (404) says it is gone.
  const deletedWithLeftovers = (options: { readonly count: number; readonly leftovers: number; readonly perRoom?: boolean }) =>
    withRestore(
      "memory",
      (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: options.count, rooms: 1 })
          yield* cacheKey(seeded)
          const stored = yield* Effect.promise(() => h.admin.roomKeys(h.user.userId, seeded.version))
          const hold = yield* Effect.promise(() => h.admin.injectFault({ kind: "hold", times: 1, match: { method: "GET", path: "/room_keys/keys" } }))
          const running = yield* Effect.fork(Effect.flip(restore.restoreKeyBackup(options.perRoom === true ? { rooms: [stored[0]?.roomId ?? ""] } : {})))
          yield* Effect.promise(() => h.admin.awaitHeld(hold))
          yield* h.api.deleteBackupVersion(Ids.BackupVersion.make(seeded.version))
          yield* Effect.promise(() => h.admin.insertRoomKeys(h.user.userId, seeded.version, stored.slice(0, options.leftovers)))
          yield* Effect.promise(() => h.admin.releaseHeld(hold))
          const error = yield* Fiber.join(running)
          expect(error).toMatchObject({ _tag: "RestoreError", reason: "BackupVersionNotFound", version: seeded.version })
          // What was read is real and stays (nothing invented, nothing lost), but the restore is not a success.
          const imported = yield* storedKeys
          expect(imported.length).toBeLessThanOrEqual(options.leftovers)
          return stored
        }),
      { profile },
    )

  it.effect("whole backup: 2 of 3 keys read back after the delete is BackupVersionNotFound, not a restore of 2 keys", () =>
    deletedWithLeftovers({ count: 3, leftovers: 2 }),
  )

  it.effect("one room: its keys read back after the delete is BackupVersionNotFound", () =>
    Effect.asVoid(deletedWithLeftovers({ count: 4, leftovers: 4, perRoom: true })),
  )
})

