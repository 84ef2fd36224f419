// The backup key's whole life through Recovery, against the fake homeserver over loopback HTTP with the real engine:
// bootstrap with a recovery key or passphrase, a second device opens 4S and loads the key, rotation updates 4S,
// an existing local key is copied into 4S, and disableKeyStorage blanks everything.
import { describe, expect, it } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { BackupEvents, Base64, KeyBackupEngine, Recovery, SecretStorageSchema, SecretStorageCallbacks as Callbacks } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { accountData, deviceLayer, newDevice, newUser, type Server, type TestUser, withServer } from "./support.js"

const serverPublicKey = (server: Server, user: TestUser) =>
  Effect.promise(async () => (await server.admin.backupVersions(user.userId)).filter((row) => !row.deleted))

/** Bootstraps 4S with a fresh recovery key (or passphrase key) and a new backup on `user`'s first device. */
const bootstrapFirstDevice = (server: Server, user: TestUser, passphrase?: string) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(passphrase === undefined ? undefined : Redacted.make(passphrase))
    yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
    const key = Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey())
    const state = yield* recovery.recoveryState
    return { generated, backupKey: Redacted.value(key), state }
  }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))

/** On a new device of `user`: open 4S with `input`, load the backup key; returns the key, version, state and events. */
const restoreOnNewDevice = (server: Server, user: TestUser, input: Parameters<Context.Tag.Service<Recovery.Recovery>["openSecretStorage"]>[0]) =>
  Effect.gen(function* () {
    const device = yield* newDevice(server, user)
    return yield* Effect.gen(function* () {
      const recovery = yield* Recovery.Recovery
      const events = yield* BackupEvents.BackupEvents
      const seen = yield* events.events.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      const before = yield* recovery.recoveryState
      const opened = yield* recovery.openSecretStorage(input)
      const version = yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
      const key = Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))
      const after = yield* recovery.recoveryState
      return { opened, version, key, before, after, events: [...(yield* Fiber.join(seen))] }
    }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
  })

/** A device that already holds `backupKey` for the server's current backup. */
const deviceLayerWithKey = (server: Server, user: TestUser, backupKey: Uint8Array) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const [row] = yield* serverPublicKey(server, user)
      yield* (yield* Recovery.Recovery).storeSessionBackupPrivateKey(Redacted.make(Uint8Array.from(backupKey)), row?.version ?? "")
    }),
  ).pipe(Layer.provideMerge(deviceLayer(server, user, Callbacks.layerNone)))

describe("Recovery: the backup key's whole life", () => {
  it.effect("bootstrap with a recovery key; a second device opens 4S with it and gets the backup key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const first = yield* bootstrapFirstDevice(server, user)
        const [row] = yield* serverPublicKey(server, user)
        expect(row?.auth_data).toMatchObject({ public_key: Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(first.backupKey)) })
        expect(first.state).toMatchObject({ _tag: "Ready", backupVersion: row?.version })
        expect(first.generated.keyInfo).toBeUndefined()
        const recoveryKey = Redacted.value(first.generated.encodedPrivateKey ?? Redacted.make(""))
        expect(recoveryKey).toMatch(/^Es[A-Za-z0-9]{2}( [1-9A-HJ-NP-Za-km-z]{4}){11}$/)

        const second = yield* restoreOnNewDevice(server, user, { recoveryKey: Redacted.make(recoveryKey) })
        expect(second.before).toMatchObject({ _tag: "NotReady", reason: "BackupKeyNotCached" })
        expect(second.opened.isDefault).toBe(true)
        expect(second.version).toBe(row?.version)
        expect(second.key).toEqual(first.backupKey)
        expect(second.after).toMatchObject({ _tag: "Ready", backupVersion: row?.version })
        expect(second.events).toEqual([{ name: "crypto.keyBackupDecryptionKeyCached", version: row?.version }])
      }),
    ),
  )

  it.effect("the same with a passphrase (m.pbkdf2 parameters stored in the key description)", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const first = yield* bootstrapFirstDevice(server, user, "correct horse battery staple")
        expect(first.generated.keyInfo?.passphrase).toMatchObject({ algorithm: "m.pbkdf2", iterations: 1000, salt: expect.stringMatching(/^[A-Za-z0-9]{32}$/) })
        const defaultKey = (yield* accountData(server, user, "m.secret_storage.default_key")) as { key: string }
        expect(yield* accountData(server, user, `m.secret_storage.key.${defaultKey.key}`)).toMatchObject({
          passphrase: first.generated.keyInfo?.passphrase,
        })
        const second = yield* restoreOnNewDevice(server, user, { passphrase: Redacted.make("correct horse battery staple") })
        expect(second.key).toEqual(first.backupKey)
        expect(second.after._tag).toBe("Ready")
      }),
    ),
  )

  it.effect("rotating the backup (setupNewKeyBackup) replaces the version and updates 4S", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const layer = deviceLayer(server, user, Callbacks.layerNone)
        const { oldKey, newKey, recoveryKey } = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
          const oldKey = Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))
          yield* recovery.bootstrapSecretStorage({ setupNewKeyBackup: true })
          const newKey = Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))
          expect((yield* recovery.recoveryState)._tag).toBe("Ready")
          return { oldKey, newKey, recoveryKey: generated.encodedPrivateKey ?? Redacted.make("") }
        }).pipe(Effect.provide(layer))
        expect(newKey).not.toEqual(oldKey)
        const live = yield* serverPublicKey(server, user)
        expect(live).toHaveLength(1)
        const second = yield* restoreOnNewDevice(server, user, { recoveryKey })
        expect(second.version).toBe(live[0]?.version)
        expect(second.key).toEqual(newKey)
      }),
    ),
  )

  it.effect("bootstrap copies a backup key this device already holds into new 4S", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          yield* engine.resetKeyBackup()
          expect(yield* recovery.recoveryState).toMatchObject({ _tag: "NotReady", reason: "NoSecretStorage" })
          expect(yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)).toBeUndefined()
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated) })
          expect((yield* recovery.recoveryState)._tag).toBe("Ready")
          return generated.encodedPrivateKey ?? Redacted.make("")
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
        expect(yield* serverPublicKey(server, user)).toHaveLength(1)
        const second = yield* restoreOnNewDevice(server, user, { recoveryKey })
        expect(second.after._tag).toBe("Ready")
      }),
    ),
  )

  it.effect("a new recovery key (setupNewSecretStorage) carries the backup key over when the old 4S is open", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const first = yield* bootstrapFirstDevice(server, user)
        const oldRecoveryKey = first.generated.encodedPrivateKey ?? Redacted.make("")
        const replace = (openOld: boolean) =>
          Effect.gen(function* () {
            const device = yield* newDevice(server, user)
            return yield* Effect.gen(function* () {
              const recovery = yield* Recovery.Recovery
              if (openOld) yield* recovery.openSecretStorage({ recoveryKey: oldRecoveryKey })
              const generated = yield* recovery.createRecoveryKeyFromPassphrase()
              yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewSecretStorage: true })
              return { state: yield* recovery.recoveryState, recoveryKey: generated.encodedPrivateKey ?? Redacted.make("") }
            }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
          })
        // Without the old key open, the backup key cannot move, and the state says so.
        expect((yield* replace(false)).state).toMatchObject({ _tag: "NotReady", reason: "BackupKeyNotInSecretStorage" })
        // The old recovery key still opens the backup key where it is stored ("out of sync" 4S stays recoverable).
        const stale = yield* restoreOnNewDevice(server, user, { recoveryKey: oldRecoveryKey })
        expect(stale.opened.isDefault).toBe(false)
        expect(stale.key).toEqual(first.backupKey)
        expect(stale.after).toMatchObject({ _tag: "NotReady", reason: "BackupKeyNotInSecretStorage" })
        // Put the backup key back under a recovery key (first device still holds it), then rotate with it open.
        const again = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewSecretStorage: true })
          return generated.encodedPrivateKey ?? Redacted.make("")
        }).pipe(Effect.provide(deviceLayerWithKey(server, user, first.backupKey)))
        const device = yield* newDevice(server, user)
        const rotated = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          yield* recovery.openSecretStorage({ recoveryKey: again })
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewSecretStorage: true })
          return { state: yield* recovery.recoveryState, recoveryKey: generated.encodedPrivateKey ?? Redacted.make("") }
        }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
        expect(rotated.state._tag).toBe("Ready")
        const third = yield* restoreOnNewDevice(server, user, { recoveryKey: rotated.recoveryKey })
        expect(third.key).toEqual(first.backupKey)
      }),
    ),
  )

  it.effect("disableKeyStorage deletes the backup, blanks 4S with {}, records backup off and forgets the key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
          const keyId = ((yield* accountData(server, user, "m.secret_storage.default_key")) as { key: string }).key
          yield* recovery.disableKeyStorage()
          for (const type of [SecretStorageSchema.MEGOLM_BACKUP_SECRET, `m.secret_storage.key.${keyId}`, "m.secret_storage.default_key", "m.cross_signing.master"]) {
            expect(yield* accountData(server, user, type)).toEqual({})
          }
          expect(yield* accountData(server, user, "m.key_backup")).toEqual({ enabled: false })
          expect(yield* recovery.getSessionBackupPrivateKey()).toEqual(Option.none())
          expect(yield* recovery.recoveryState).toMatchObject({ _tag: "NotReady", reason: "NoSecretStorage" })
          expect(Option.isNone(yield* (yield* KeyBackupEngine.KeyBackupEngine).getActiveSessionBackupVersion())).toBe(true)
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
        expect(yield* serverPublicKey(server, user)).toEqual([])
      }),
    ),
  )

  it.effect("getSecretStorageStatus has js-sdk's shape; readiness follows the required secrets", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const status = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          expect(yield* recovery.isSecretStorageReady()).toBe(false)
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
          return yield* recovery.getSecretStorageStatus()
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
        const keyId = ((yield* accountData(server, user, "m.secret_storage.default_key")) as { key: string }).key
        expect(status).toEqual({
          ready: false,
          defaultKeyId: keyId,
          secretStorageKeyValidityMap: {
            "m.cross_signing.master": false,
            "m.cross_signing.user_signing": false,
            "m.cross_signing.self_signing": false,
            "m.megolm_backup.v1": true,
          },
        })
        const device = yield* newDevice(server, user)
        const backupOnly = yield* Effect.flatMap(Recovery.Recovery, (r) => r.getSecretStorageStatus()).pipe(
          Effect.provide(deviceLayer(server, device, Callbacks.layerNone, { requireCrossSigningSecrets: false })),
        )
        // Uploads are not enabled on this device, so the backup key is not required either (js-sdk's rule).
        expect(backupOnly).toEqual({ ready: true, defaultKeyId: keyId, secretStorageKeyValidityMap: {} })
      }),
    ),
  )
})
