// The engine against the fake homeserver over loopback HTTP: check, reset, enable, upload, switch, delete, events.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import type { Scope } from "effect"
import { signBackupAuthData } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, Base64, KeyBackupEngine, MegolmBackupV1 } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { collectEvents, deviceKeysLayer, eventually, engineLayer, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

const run = <A, E>(
  f: (ctx: Parameters<Parameters<typeof withServer>[0]>[0]) => Effect.Effect<A, E, KeyBackupEngine.KeyBackupEngine | BackupStore.BackupStore | BackupEvents.BackupEvents | Scope.Scope>,
  options: { readonly withMaster?: boolean } = {},
) =>
  withServer((ctx) =>
    f(ctx).pipe(
      Effect.provide(
        engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity, options), BackupStore.layerMemory)),
      ),
    ),
  )

const storedKey = Effect.flatMap(BackupStore.BackupStore, (store) => store.getBackupDecryptionKey()).pipe(
  Effect.map(Option.getOrThrowWith(() => new Error("test: no key cached"))),
)

describe("KeyBackupEngine", () => {
  it.scopedLive("no backup: check is None, uploads stay off and the steady-state wait says why", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        expect(Option.isNone(yield* engine.checkKeyBackupAndEnable(true))).toBe(true)
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "NoBackup" })
        expect(Option.isNone(yield* engine.getActiveSessionBackupVersion())).toBe(true)
        expect(Option.isNone(yield* engine.getKeyBackupInfo())).toBe(true)
        const error = yield* Effect.flip(engine.waitForBackupSteadyState())
        expect(error.reason).toBe("NoBackup")
      }),
    ),
  )

  it.scopedLive("steady-state wait before any check fails as Unknown, not a hang", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        expect((yield* Effect.flip(engine.waitForBackupSteadyState({ timeoutMs: 5000 }))).reason).toBe("Unknown")
      }),
    ),
  )

  it.scopedLive("reset creates a signed version, caches its key, enables it and uploads every key exactly once", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const seen = yield* collectEvents
        const keys = roomKeys(250, { rooms: 7 })
        yield* engine.addRoomKeys(keys)
        const check = yield* engine.resetKeyBackup()
        expect(check.trustInfo).toEqual({ trusted: true, matchesDecryptionKey: true })
        const version = check.backupInfo.version ?? ""
        expect(version).toBe("1")
        const { key, version: cachedVersion } = yield* storedKey
        expect(cachedVersion).toBe(version)
        const publicKey = Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(Redacted.value(key)))
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows).toHaveLength(1)
        expect(rows[0]?.auth_data).toMatchObject({ public_key: publicKey, signatures: { [identity.userId]: { [`ed25519:${identity.deviceId}`]: expect.any(String) } } })

        yield* engine.waitForBackupSteadyState()
        const stored = yield* Effect.promise(() => admin.roomKeys(identity.userId, version))
        expect(stored).toHaveLength(250)
        expect(new Set(stored.map((s) => `${s.roomId}|${s.sessionId}`)).size).toBe(250)
        const store = yield* BackupStore.BackupStore
        expect(yield* store.countPending(version)).toBe(0)
        // Every entry decrypts with the cached key to the session it came from.
        const byId = new Map(keys.map((k) => [k.sessionId, k]))
        for (const entry of stored) {
          const data = entry.data.session_data
          if (typeof data !== "object" || data === null) throw new Error("test: bad session_data")
          const plain = MegolmBackupV1.decryptSessionData(Redacted.value(key), {
            ephemeral: String(Reflect.get(data, "ephemeral")),
            ciphertext: String(Reflect.get(data, "ciphertext")),
            mac: String(Reflect.get(data, "mac")),
          })
          const json = JSON.parse(new TextDecoder().decode(Either.getOrThrow(plain)))
          const original = byId.get(entry.sessionId)
          expect(json).toMatchObject({ algorithm: "m.megolm.v1.aes-sha2", session_key: original?.sessionKey, sender_key: original?.senderKey })
          expect(entry.data).toMatchObject({ first_message_index: 0, forwarded_count: 0, is_verified: false })
        }
        const log = yield* Effect.promise(() => admin.requestLog())
        expect(log.filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys"))).toHaveLength(3)
        const names = seen.map((e) => e.name)
        expect(names).toContain(BackupEvents.CryptoEvent.KeyBackupDecryptionKeyCached)
        expect(seen.find((e) => e.name === BackupEvents.CryptoEvent.KeyBackupStatus)).toEqual({ name: BackupEvents.CryptoEvent.KeyBackupStatus, enabled: true })
        const remaining = seen.flatMap((e) => (e.name === BackupEvents.CryptoEvent.KeyBackupSessionsRemaining ? [e.remaining] : []))
        expect(remaining.filter((n) => n > 0)).toEqual([150, 50])
        expect(remaining.at(-1)).toBe(0)
      }),
    ),
  )

  it.scopedLive("imported keys are sent with forwarded_count 1; keys added later are uploaded by the woken loop", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        yield* engine.waitForBackupSteadyState()
        yield* engine.addRoomKeys(roomKeys(30, { imported: true }))
        yield* engine.waitForBackupSteadyState()
        const stored = yield* Effect.promise(() => admin.roomKeys(identity.userId, version))
        expect(stored).toHaveLength(30)
        expect(stored.every((s) => s.data.forwarded_count === 1)).toBe(true)
      }),
    ),
  )

  it.scopedLive("concurrent checks share one GET", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* Effect.promise(() => admin.clearRequestLog())
        const results = yield* Effect.all(Array.from({ length: 5 }, () => engine.checkKeyBackupAndEnable(true)), { concurrency: "unbounded" })
        expect(results.every(Option.isSome)).toBe(true)
        const gets = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.method === "GET" && e.path.endsWith("/room_keys/version"))
        expect(gets).toHaveLength(1)
        expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe("1")
        void identity
      }),
    ),
  )

  it.scopedLive("another device's new version signed by our trusted master key: upload fails, re-check switches, every key goes again", () =>
    run(
      ({ admin, identity }) =>
        Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const seen = yield* collectEvents
          yield* engine.addRoomKeys(roomKeys(120))
          yield* engine.resetKeyBackup()
          yield* engine.waitForBackupSteadyState()
          // The other device signs with the master key only; our engine does not hold the new private key.
          const otherKey = globalThis.crypto.getRandomValues(new Uint8Array(32))
          const auth = signBackupAuthData({ public_key: Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(otherKey)) }, identity)
          const v2 = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId, undefined, auth))
          yield* engine.addRoomKeys(roomKeys(10))
          yield* engine.waitForBackupSteadyState()
          expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe(v2)
          expect(seen).toContainEqual({ name: BackupEvents.CryptoEvent.KeyBackupFailed, errcode: "M_WRONG_ROOM_KEYS_VERSION" })
          const stored = yield* Effect.promise(() => admin.roomKeys(identity.userId, v2))
          expect(stored).toHaveLength(130)
          const store = yield* BackupStore.BackupStore
          expect(yield* store.countPending(v2)).toBe(0)
          // One "backed up to" version per key: after the switch every key counts as pending for the old version.
          expect(yield* store.countPending("1")).toBe(130)
        }),
      { withMaster: true },
    ),
  )

  it.scopedLive("deleting the active version disables uploads and clears the cached info", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const seen = yield* collectEvents
        yield* engine.resetKeyBackup()
        yield* engine.deleteKeyBackupVersion("1")
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "Deleted", version: "1" })
        expect(Option.isNone(yield* engine.getActiveSessionBackupVersion())).toBe(true)
        yield* eventually(() =>
          expect(seen.filter((e) => e.name === BackupEvents.CryptoEvent.KeyBackupStatus)).toEqual([
            { name: BackupEvents.CryptoEvent.KeyBackupStatus, enabled: true },
            { name: BackupEvents.CryptoEvent.KeyBackupStatus, enabled: false },
          ]),
        )
        expect(Option.isNone(yield* engine.getKeyBackupInfo())).toBe(true)
        // Deleting a deleted version succeeds (Synapse, spec); one that never existed is NotFound.
        yield* engine.deleteKeyBackupVersion("1")
        const error = yield* Effect.flip(engine.deleteKeyBackupVersion("99"))
        expect(error).toMatchObject({ reason: "NotFound", step: "deleteVersion", errcode: "M_NOT_FOUND" })
      }),
    ),
  )

  it.scopedLive("checks racing a reset never leave uploads on a deleted version", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* engine.addRoomKeys(roomKeys(60))
        const [, , check] = yield* Effect.all([engine.checkKeyBackupAndEnable(), engine.checkKeyBackupAndEnable(), engine.resetKeyBackup(), engine.checkKeyBackupAndEnable()], {
          concurrency: "unbounded",
        })
        yield* engine.waitForBackupSteadyState()
        const version = check.backupInfo.version ?? ""
        expect(version).toBe("2")
        expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe("2")
        expect(yield* Effect.promise(() => admin.roomKeys(identity.userId, "2"))).toHaveLength(60)
      }),
    ),
  )

  it.scopedLive("a decryption key arriving for the server's (unsigned) backup: onDecryptionKeyCached re-checks and enables it", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const key = globalThis.crypto.getRandomValues(new Uint8Array(32))
        const auth = { public_key: Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(key)) }
        const version = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId, undefined, auth))
        yield* engine.checkKeyBackupAndEnable()
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "NotTrusted", version })
        const store = yield* BackupStore.BackupStore
        yield* store.storeBackupDecryptionKey(Redacted.make(key), version)
        yield* engine.onDecryptionKeyCached(version)
        expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe(version)
        yield* engine.addRoomKeys(roomKeys(12))
        yield* engine.waitForBackupSteadyState()
        expect(yield* Effect.promise(() => admin.roomKeys(identity.userId, version))).toHaveLength(12)
      }),
    ),
  )

  it.scopedLive("reset deletes every older version first", () =>
    run(({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        const check = yield* engine.resetKeyBackup()
        expect(check.backupInfo.version).toBe("3")
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.map((r) => [r.version, r.deleted])).toEqual([["1", true], ["2", true], ["3", false]])
      }),
    ),
  )
})
