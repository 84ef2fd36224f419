/**
 * The parts of the BackupStore conformance suite about concurrency, secrets, backup state and the
 * store's life: reopening the same storage and migrating from the previous schema (adapter hooks).
 */
import { expect, it } from "@effect/vitest"
import { BackupInfo, BackupStore, type RoomKey } from "@matrix-backup/core"
import { Effect, type Layer, Option, Redacted } from "effect"
import { countsOf, manyKeys, Model, modelCounts, roomKey, seeded, type Store, uploadAll } from "./BackupStoreSuiteFixtures.js"

/** Opens one fixed storage location (file, database name, memory tables) with the given options. */
export type Opener = (options?: BackupStore.StoreOptions) => Layer.Layer<BackupStore.BackupStore, BackupStore.StorageError>
/** A row to write in the previous schema version. */
export interface SeedRow {
  readonly key: RoomKey.RoomKey
  readonly backedUpTo: string | null
}
/** Adapter-specific hooks. */
export interface Hooks {
  /** A fresh storage location that can be opened several times (persistence, at-rest keys). */
  readonly reopenable?: () => Opener
  /** Writes `rows` into a fresh location in the previous schema version; the opener opens it with the current code. */
  readonly previousVersion?: (rows: ReadonlyArray<SeedRow>) => Effect.Effect<Opener>
}

type WithStore = <A, E>(body: (store: Store) => Effect.Effect<A, E>) => Effect.Effect<A, E | BackupStore.StorageError>

const use = <A, E>(layer: Layer.Layer<BackupStore.BackupStore, BackupStore.StorageError>, body: (store: Store) => Effect.Effect<A, E>) =>
  Effect.flatMap(BackupStore.BackupStore, body).pipe(Effect.provide(layer))

const bytes = (n: number, fill: number) => Redacted.make(new Uint8Array(n).fill(fill))
const reveal = Option.map((r: Redacted.Redacted<Uint8Array>) => [...Redacted.value(r)])

/** Many fibers upserting and marking at once: the final counts still match the rows. */
export const runConcurrency = (withStore: WithStore) =>
  it.effect("concurrent writers and uploaders keep counts exact", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const model = new Model()
        const writer = (seed: number) =>
          Effect.gen(function* () {
            const random = seeded(seed)
            for (let i = 0; i < 10; i++) {
              const keys = Array.from({ length: 40 }, () => roomKey(`r${random(4)}`, `s${random(300)}`, random(8)))
              model.upsert(keys, null)
              yield* store.upsertRoomKeys(keys)
              yield* Effect.yieldNow()
            }
          })
        const uploader = Effect.gen(function* () {
          for (let i = 0; i < 15; i++) {
            const taken = yield* store.pendingRoomKeys("1", 30)
            yield* Effect.yieldNow()
            yield* store.markBackedUp("1", taken)
          }
        })
        yield* Effect.all([...[1, 2, 3, 4, 5, 6, 7, 8].map(writer), uploader, uploader, uploader], { concurrency: "unbounded" })
        const stored = yield* Effect.forEach([...model.rows.keys()], (id) => {
          const [roomId = "", sessionId = ""] = id.split("|")
          return store.getRoomKey(roomId, sessionId)
        })
        let notOnOne = 0
        for (const row of stored) {
          const key = Option.getOrThrow(row)
          expect(key.firstKnownIndex).toBe(model.rows.get(Model.id(key))?.index)
          if (key.backedUpTo !== "1") notOnOne++
        }
        expect(yield* countsOf(store, ["1", "2"])).toEqual({ total: model.rows.size, "1": notOnOne, "2": model.rows.size })
        expect((yield* store.pendingRoomKeys("1", 10_000)).length).toBe(notOnOne)
        expect(yield* uploadAll(store, "1")).toBe(notOnOne)
      }),
    ), 60_000)

/** Secrets, backup state, reopening and migration. */
export const runLifecycle = (withStore: WithStore, hooks: Hooks) => {
  it.effect("backup state round-trips the active version and the raw backup info", () =>
    withStore((store) =>
      Effect.gen(function* () {
        expect(yield* store.getBackupState()).toEqual({ activeVersion: null, backupInfo: null })
        const info = { algorithm: BackupInfo.MEGOLM_BACKUP_V1_CURVE25519, auth_data: { public_key: "abc" }, version: "3" }
        yield* store.setBackupState({ activeVersion: "3", backupInfo: info })
        expect(yield* store.getBackupState()).toEqual({ activeVersion: "3", backupInfo: info })
        yield* store.setBackupState({ activeVersion: null, backupInfo: null })
        expect(yield* store.getBackupState()).toEqual({ activeVersion: null, backupInfo: null })
      }),
    ))

  it.effect("backup decryption key and cached 4S keys round-trip, clear and stay apart", () =>
    withStore((store) =>
      Effect.gen(function* () {
        expect(yield* store.getBackupDecryptionKey()).toEqual(Option.none())
        yield* store.storeBackupDecryptionKey(bytes(32, 9), "12")
        const got = Option.getOrThrow(yield* store.getBackupDecryptionKey())
        expect([got.version, [...Redacted.value(got.key)]]).toEqual(["12", Array(32).fill(9)])
        expect(String(got.key)).not.toContain("9,9")
        yield* store.cacheSecretStorageKey("k1", bytes(32, 1))
        yield* store.cacheSecretStorageKey("k2", bytes(32, 2))
        expect(reveal(yield* store.getCachedSecretStorageKey("k1"))).toEqual(Option.some(Array(32).fill(1)))
        expect(reveal(yield* store.getCachedSecretStorageKey("k2"))).toEqual(Option.some(Array(32).fill(2)))
        expect(yield* store.getCachedSecretStorageKey("k3")).toEqual(Option.none())
        yield* store.clearBackupDecryptionKey()
        expect(yield* store.getBackupDecryptionKey()).toEqual(Option.none())
        expect(Option.isSome(yield* store.getCachedSecretStorageKey("k1"))).toBe(true)
      }),
    ))

  const reopenable = hooks.reopenable
  if (reopenable !== undefined) runReopen(reopenable)
  const previous = hooks.previousVersion
  if (previous !== undefined) runMigration(previous)
}

const runReopen = (reopenable: () => Opener) => {
  it.effect("at-rest key: round trip; a wrong or missing key is refused and overwrites nothing", () => {
    const opener = reopenable()
    const good = { atRestKey: bytes(32, 0xaa) }
    const wrong = { atRestKey: bytes(32, 0xbb) }
    return Effect.gen(function* () {
      yield* use(opener(good), (s) =>
        Effect.zipRight(s.storeBackupDecryptionKey(bytes(32, 5), "1"), s.cacheSecretStorageKey("k", bytes(32, 6))))
      for (const options of [wrong, {}, { atRestKey: bytes(16, 1) }]) {
        yield* use(opener(options), (s) =>
          Effect.gen(function* () {
            expect((yield* Effect.flip(s.getBackupDecryptionKey())).reason).toBe("WrongEncryptionKey")
            expect((yield* Effect.flip(s.storeBackupDecryptionKey(bytes(32, 7), "2"))).reason).toBe("WrongEncryptionKey")
            expect((yield* Effect.flip(s.cacheSecretStorageKey("k", bytes(32, 8)))).reason).toBe("WrongEncryptionKey")
            expect((yield* Effect.flip(s.getCachedSecretStorageKey("k"))).reason).toBe("WrongEncryptionKey")
          }))
      }
      yield* use(opener(good), (s) =>
        Effect.gen(function* () {
          const got = Option.getOrThrow(yield* s.getBackupDecryptionKey())
          expect([got.version, [...Redacted.value(got.key)]]).toEqual(["1", Array(32).fill(5)])
          expect(reveal(yield* s.getCachedSecretStorageKey("k"))).toEqual(Option.some(Array(32).fill(6)))
        }))
    })
  })

  it.effect("reopening the same storage keeps keys, flags, counts, state and checkpoints", () => {
    const opener = reopenable()
    const model = new Model()
    return Effect.gen(function* () {
      yield* use(opener(), (s) =>
        Effect.gen(function* () {
          const keys = manyKeys(500)
          yield* s.upsertRoomKeys(keys)
          model.upsert(keys, null)
          const restored = manyKeys(100, "r")
          yield* s.upsertRoomKeys(restored, { backedUpTo: "2", checkpoint: { version: "2", rooms: ["!room1:example.org"] } })
          model.upsert(restored, "2")
          const taken = yield* s.pendingRoomKeys("2", 123)
          yield* s.markBackedUp("2", taken)
          model.mark("2", taken)
          yield* s.setBackupState({ activeVersion: "2", backupInfo: { version: "2" } })
        }))
      yield* use(opener(), (s) =>
        Effect.gen(function* () {
          expect(yield* countsOf(s, ["1", "2"])).toEqual(modelCounts(model, ["1", "2"]))
          expect([...(yield* s.getRestoreCheckpoint("2"))]).toEqual(["!room1:example.org"])
          expect(yield* s.getBackupState()).toEqual({ activeVersion: "2", backupInfo: { version: "2" } })
          expect(Option.map(yield* s.getRoomKey("!room0:example.org", "r000000"), (k) => k.backedUpTo)).toEqual(Option.some("2"))
          expect(yield* uploadAll(s, "2")).toBe(model.pending("2"))
        }))
    })
  }, 60_000)
}

const runMigration = (previous: (rows: ReadonlyArray<SeedRow>) => Effect.Effect<Opener>) =>
  it.effect("migrates a store written by the previous schema version, counts included", () =>
    Effect.gen(function* () {
      const rows = manyKeys(300).map((key, i) => ({ key, backedUpTo: i % 3 === 0 ? "1" : i % 3 === 1 ? "2" : null }))
      const opener = yield* previous(rows)
      const model = new Model()
      for (const row of rows) model.upsert([row.key], row.backedUpTo)
      yield* use(opener(), (s) =>
        Effect.gen(function* () {
          expect(yield* countsOf(s, ["1", "2", "3"])).toEqual(modelCounts(model, ["1", "2", "3"]))
          const first = rows[0]?.key
          if (first !== undefined) expect(yield* s.getRoomKey(first.roomId, first.sessionId)).toEqual(Option.some({ ...first, backedUpTo: "1" }))
          expect(yield* uploadAll(s, "1")).toBe(200)
          yield* s.upsertRoomKeys([roomKey("new", "n", 0)])
          expect(yield* countsOf(s, ["1"])).toEqual({ total: 301, "1": 1 })
        }))
    }), 60_000)
