// Full restores against the fake homeserver over loopback HTTP, into the memory store and SQLite: good keys
// imported and marked backed up, broken ones counted by reason, typed errors before any download, progress.
// Every case runs on each server profile of the fake.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Stream } from "effect"
import { pbkdf2Sync, randomBytes } from "node:crypto"
import { backupPublicKeyFromPrivate, MEGOLM_BACKUP_V1, SERVER_PROFILES, type ServerProfileName } from "@matrix-backup/testkit"
import { BackupStore, type RestoreError, RoomKey } from "@matrix-backup/core"
import { cacheKey, sameKey, seed, storedKeys } from "./fixtures.js"
import { BROKEN_KINDS, brokenEntries, generateRoomKeys, newBackupKey, randomBackupPublicKey, seedBackup, STORE_KINDS, withRestore as withRestoreOn } from "./support.js"
import type { BrokenKind, Harness, StoreKind } from "./support.js"

const EXPECTED_REASON: Record<BrokenKind, string> = {
  badMac: "BadMac",
  badPadding: "BadPadding",
  notJson: "MalformedPlaintext",
  missingFields: "MissingFields",
  unknownAlgorithm: "UnknownAlgorithm",
  invalidSessionKey: "InvalidSessionKey",
  wrongKey: "BadMac",
  malformedSessionData: "MalformedSessionData",
  sessionDataNotObject: "MalformedEntry",
}

/** `withRestore` on a fake of `profile`. */
const withRestore = <A, E>(kind: StoreKind, profile: ServerProfileName, f: Parameters<typeof withRestoreOn<A, E>>[1]) => withRestoreOn(kind, f, { profile })

const keysRequests = (h: Harness) =>
  Effect.map(Effect.promise(() => h.admin.requestLog()), (log) => log.filter((e) => e.path.includes("/room_keys/keys")))

describe.each(SERVER_PROFILES)("on the %s profile", (profile) => {
  // The stores do not depend on the server: SQLite runs on the default profile, the memory store on every one.
  describe.each(profile === "synapse" ? STORE_KINDS : STORE_KINDS.filter((k) => k === "memory"))("restoreKeyBackup into the %s store", (kind) => {
    it.effect("imports every good key, counts each broken entry under its reason, and marks keys backed up", () =>
      withRestore(kind, profile, (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 450, rooms: 7 })
          const { version } = seeded
          const broken = brokenEntries(backupPublicKeyFromPrivate(seeded.privateKey))
          yield* Effect.promise(() => h.admin.insertRoomKeys(h.user.userId, version, broken))
          yield* cacheKey(seeded)
          const progress: Array<RestoreError.ImportRoomKeyProgressData> = []
          const result = yield* restore.restoreKeyBackup({ onProgress: (p) => progress.push(p) })

          expect(result.total).toBe(450 + BROKEN_KINDS.length)
          expect(result.imported).toBe(450)
          expect(result.skipped).toBe(0)
          const expected: Record<string, number> = {}
          for (const kind of BROKEN_KINDS) expected[EXPECTED_REASON[kind]] = (expected[EXPECTED_REASON[kind]] ?? 0) + 1
          for (const [reason, count] of Object.entries(result.failures)) expect([reason, count]).toEqual([reason, expected[reason] ?? 0])

          const store = yield* BackupStore.BackupStore
          const stored = yield* storedKeys
          expect(stored).toHaveLength(450)
          const byId = new Map(seeded.keys.map((k) => [`${k.room_id}|${k.session_id}`, k]))
          for (const key of stored) {
            const original = byId.get(`${key.roomId}|${key.sessionId}`)
            expect(original !== undefined && sameKey(key, original)).toBe(true)
            expect(key.imported).toBe(true)
          }
          expect(yield* store.countPending(version)).toBe(0)
          expect(yield* store.getRestoreCheckpoint(version)).toEqual(new Set())

          expect(progress[0]).toEqual({ stage: "fetch" })
          // The first total is the server's count, a hint: Palpo's is as of the version's creation (0, before the keys).
          expect(progress[1]).toEqual({ stage: "load_keys", total: profile === "palpo" ? 0 : 459, successes: 0, failures: 0 })
          expect(progress.at(-1)).toEqual({ stage: "load_keys", total: 459, successes: 450, failures: BROKEN_KINDS.length })
          const loads = progress.flatMap((p) => (p.stage === "load_keys" ? [p.successes + p.failures] : []))
          for (let i = 1; i < loads.length; i++) expect((loads[i] ?? 0) - (loads[i - 1] ?? 0)).toBeLessThanOrEqual(200)
        }),
      ),
    )

    it.effect("keys restored are not pending for their version, and are pending after a switch to a new version", () =>
      withRestore(kind, profile, (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 120 })
          yield* cacheKey(seeded)
          yield* restore.restoreKeyBackup()
          const store = yield* BackupStore.BackupStore
          expect(yield* store.countTotal()).toBe(120)
          expect(yield* store.countPending(seeded.version)).toBe(0)
          const next = yield* Effect.promise(() => h.admin.resetBackupAsOtherDevice(h.user.userId))
          expect(yield* store.countPending(next)).toBe(120)
        }),
      ),
    )
  })

  describe("restoreKeyBackup keeps the better copy", () => {
    it.effect("a lower local index is kept (and stays pending); a higher one is replaced by the backup's and marked backed up", () =>
      withRestore("sqlite", profile, (h, restore) =>
        Effect.gen(function* () {
          const store = yield* BackupStore.BackupStore
          const keys = generateRoomKeys(20, { rooms: 1, firstKnownIndex: 0 })
          const later = generateRoomKeys(20, { rooms: 1, firstKnownIndex: 7 })
          const privateKey = newBackupKey()
          // The backup holds the first ten sessions at index 7 and the other ten at index 0.
          const served = [...later.slice(0, 10).map((k, i) => ({ ...k, room_id: keys[i]?.room_id ?? "", session_id: keys[i]?.session_id ?? "" })), ...keys.slice(10)]
          const { version } = yield* Effect.promise(() => seedBackup(h.admin, h.user.userId, { backupPrivateKey: privateKey, keys: served }))
          yield* cacheKey({ version, privateKey })
          // Locally: the first ten at index 0 (better than the backup), the other ten at index 7 (worse).
          const local = [...keys.slice(0, 10), ...later.slice(10).map((k, i) => ({ ...k, room_id: keys[10 + i]?.room_id ?? "", session_id: keys[10 + i]?.session_id ?? "" }))]
          yield* store.upsertRoomKeys(
            local.map((k, i) => ({
              roomId: k.room_id,
              sessionId: k.session_id,
              algorithm: RoomKey.MEGOLM_V1_AES_SHA2,
              senderKey: k.sender_key,
              sessionKey: k.session_key,
              senderClaimedKeys: { ...k.sender_claimed_keys },
              forwardingCurve25519KeyChain: [],
              firstKnownIndex: i < 10 ? 0 : 7,
              sharedHistory: false,
              imported: false,
              source: "direct" as const,
            })),
          )
          const result = yield* restore.restoreKeyBackup()
          expect(result).toMatchObject({ total: 20, imported: 20 })
          for (const [i, k] of keys.entries()) {
            const stored = yield* store.getRoomKey(k.room_id, k.session_id)
            expect(stored._tag === "Some" && stored.value.firstKnownIndex).toBe(0)
            expect(stored._tag === "Some" && stored.value.backedUpTo).toBe(i < 10 ? null : version)
          }
          expect(yield* store.countPending(version)).toBe(10)
        }),
      ),
    )
  })

  describe("restoreKeyBackup refuses before any download", () => {
    const refuses = (setup: (h: Harness) => Effect.Effect<void, unknown, BackupStore.BackupStore>, reason: string) =>
      withRestore("memory", profile, (h, restore) =>
        Effect.gen(function* () {
          yield* setup(h)
          const error = yield* Effect.flip(restore.restoreKeyBackup())
          expect(error._tag).toBe("RestoreError")
          expect(error.reason).toBe(reason)
          expect(yield* keysRequests(h)).toEqual([])
        }),
      )

    it.effect("NoDecryptionKey", () => refuses(() => Effect.void, "NoDecryptionKey"))
    it.effect("BackupVersionNotFound", () =>
      refuses((h) => Effect.asVoid(Effect.flatMap(seed(h.admin, h.user.userId, { count: 3 }), (s) => cacheKey({ ...s, version: "999" }))), "BackupVersionNotFound"),
    )
    it.effect("DecryptionKeyDoesNotMatch", () =>
      refuses(
        (h) => Effect.asVoid(Effect.flatMap(seed(h.admin, h.user.userId, { count: 3 }), (s) => cacheKey({ ...s, privateKey: new Uint8Array(randomBytes(32)) }))),
        "DecryptionKeyDoesNotMatch",
      ),
    )
    it.effect("UnsupportedAlgorithm", () =>
      refuses(
        (h) =>
          Effect.flatMap(
            Effect.promise(() => h.admin.resetBackupAsOtherDevice(h.user.userId, "org.example.other", { public_key: randomBackupPublicKey() })),
            (version) => cacheKey({ version, privateKey: new Uint8Array(32).fill(7) }),
          ),
        "UnsupportedAlgorithm",
      ),
    )
  })

  describe("restoreKeyBackup edge cases", () => {
    it.effect("an empty backup reports fetch and load_keys with total 0", () =>
      withRestore("memory", profile, (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 0 })
          yield* cacheKey(seeded)
          const progress: Array<RestoreError.ImportRoomKeyProgressData> = []
          const result = yield* restore.restoreKeyBackup({ onProgress: (p) => progress.push(p) })
          expect(result).toMatchObject({ total: 0, imported: 0, skipped: 0 })
          expect(progress[0]).toEqual({ stage: "fetch" })
          expect(progress.at(-1)).toEqual({ stage: "load_keys", total: 0, successes: 0, failures: 0 })
        }),
      ),
    )

    it.effect("restores only the rooms asked for, one request per room", () =>
      withRestore("memory", profile, (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 200, rooms: 4 })
          yield* cacheKey(seeded)
          const rooms = [...new Set(seeded.keys.map((k) => k.room_id))].slice(0, 2)
          const wanted = seeded.keys.filter((k) => rooms.includes(k.room_id)).length
          yield* Effect.promise(() => h.admin.clearRequestLog())
          const result = yield* restore.restoreKeyBackup({ rooms })
          expect(result).toMatchObject({ total: wanted, imported: wanted })
          expect(yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.countTotal()))).toBe(wanted)
          expect((yield* keysRequests(h)).map((e) => e.path).sort()).toEqual(rooms.map((r) => `/_matrix/client/v3/room_keys/keys/${encodeURIComponent(r)}`).sort())
        }),
      ),
    )

    it.effect("restoreKeyBackupStream emits fetch, load_keys and the result", () =>
      withRestore("memory", profile, (h, restore) =>
        Effect.gen(function* () {
          const seeded = yield* seed(h.admin, h.user.userId, { count: 500 })
          yield* cacheKey(seeded)
          const events = [...(yield* Stream.runCollect(restore.restoreKeyBackupStream({ batchSize: 100 })))]
          expect(events[0]).toEqual({ stage: "fetch" })
          expect(events.filter((e) => e.stage === "load_keys").length).toBeGreaterThanOrEqual(6)
          const last = events.at(-1)
          expect(last?.stage === "done" && last.result.imported).toBe(500)
        }),
      ),
    )

    it.effect("restoreKeyBackupWithPassphrase derives the legacy key, caches it and restores; a wrong passphrase is refused", () =>
      withRestore("sqlite", profile, (h, restore) =>
        Effect.gen(function* () {
          const salt = randomBytes(16).toString("hex")
          const iterations = 1000
          const privateKey = new Uint8Array(pbkdf2Sync("correct horse", salt, iterations, 32, "sha512"))
          const publicKey = backupPublicKeyFromPrivate(privateKey)
          yield* Effect.promise(() =>
            h.admin.resetBackupAsOtherDevice(h.user.userId, MEGOLM_BACKUP_V1, { public_key: publicKey, private_key_salt: salt, private_key_iterations: iterations }),
          )
          yield* seed(h.admin, h.user.userId, { count: 60, privateKey })
          const wrong = yield* Effect.flip(restore.restoreKeyBackupWithPassphrase(Redacted.make("wrong horse")))
          expect(wrong.reason).toBe("DecryptionKeyDoesNotMatch")
          const result = yield* restore.restoreKeyBackupWithPassphrase(Redacted.make("correct horse"))
          expect(result).toMatchObject({ total: 60, imported: 60 })
          const cached = yield* BackupStore.BackupStore.pipe(Effect.flatMap((s) => s.getBackupDecryptionKey()))
          expect(cached._tag === "Some" && Buffer.from(Redacted.value(cached.value.key)).equals(Buffer.from(privateKey))).toBe(true)
        }),
      ),
    )

    it.effect("restoreKeyBackupWithPassphrase on a backup without a salt fails with NotPassphraseBackup", () =>
      withRestore("memory", profile, (h, restore) =>
        Effect.gen(function* () {
          yield* seed(h.admin, h.user.userId, { count: 2 })
          const error = yield* Effect.flip(restore.restoreKeyBackupWithPassphrase(Redacted.make("anything")))
          expect(error.reason).toBe("NotPassphraseBackup")
        }),
      ),
    )
  })
})
