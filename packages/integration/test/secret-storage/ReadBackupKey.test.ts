// Recovery.readSessionBackupPrivateKey against the fake homeserver: the backup key read with a recovery key or
// passphrase (from 4S, or the input as the backup key itself), checked against the server's backup, never stored.
import { describe, expect, it } from "@effect/vitest"
import { BackupStore, Recovery, RecoveryKey, SecretStorageCallbacks as Callbacks } from "@matrix-backup/core"
import { backupPublicKeyFromPrivate, MEGOLM_BACKUP_V1 } from "@matrix-backup/testkit"
import { Effect, Option, Redacted } from "effect"
import { pbkdf2Sync, randomBytes } from "node:crypto"
import { deviceLayer, newDevice, newUser, type Server, type TestUser, withServer } from "./support.js"

/** 4S with a recovery key (or passphrase) and a backup, made by the user's first device. */
const setUp = (server: Server, user: TestUser, passphrase?: string) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(passphrase === undefined ? undefined : Redacted.make(passphrase))
    yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
    const key = Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))
    return { recoveryKey: Redacted.value(generated.encodedPrivateKey ?? Redacted.make("")), backupKey: key }
  }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))

/** On a new device: read the key with `input`; also returns what the device's store holds afterwards. */
const readOnNewDevice = (server: Server, user: TestUser, input: Recovery.TypedSecret) =>
  Effect.gen(function* () {
    const device = yield* newDevice(server, user)
    return yield* Effect.gen(function* () {
      const recovery = yield* Recovery.Recovery
      const read = yield* Effect.either(recovery.readSessionBackupPrivateKey(input))
      const held = yield* (yield* BackupStore.BackupStore).getBackupDecryptionKey()
      return { read, held }
    }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
  })

describe("Recovery.readSessionBackupPrivateKey", () => {
  it.effect("reads the key from 4S with the recovery key or the passphrase, and stores nothing", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const first = yield* setUp(server, user, "correct horse")
        for (const input of [{ recoveryKey: Redacted.make(first.recoveryKey) }, { passphrase: Redacted.make("correct horse") }]) {
          const { read, held } = yield* readOnNewDevice(server, user, input)
          expect(read._tag).toBe("Right")
          if (read._tag === "Right") {
            expect(Redacted.value(read.right.key)).toEqual(first.backupKey)
            expect(read.right).toMatchObject({ via: "SecretStorage", backup: { version: "1" } })
          }
          expect(Option.isNone(held)).toBe(true)
        }
      }),
    ),
  )

  it.effect("a wrong key or passphrase opens nothing; a malformed recovery key fails before any request", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* setUp(server, user)
        const wrong = yield* readOnNewDevice(server, user, { recoveryKey: Redacted.make(RecoveryKey.encodeRecoveryKey(randomBytes(32))) })
        expect(wrong.read).toMatchObject({ _tag: "Left", left: { _tag: "RecoveryError", reason: "SecretDoesNotOpenBackup" } })
        const phrase = yield* readOnNewDevice(server, user, { passphrase: Redacted.make("not it") })
        expect(phrase.read).toMatchObject({ _tag: "Left", left: { _tag: "RecoveryError", reason: "SecretDoesNotOpenBackup" } })
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const malformed = yield* readOnNewDevice(server, user, { recoveryKey: Redacted.make("EsTx not a key") })
        expect(malformed.read).toMatchObject({ _tag: "Left", left: { _tag: "RecoveryKeyError" } })
        const log = yield* Effect.promise(() => server.admin.requestLog())
        expect(log.filter((entry) => entry.path.includes("room_keys") || entry.path.includes("account_data"))).toEqual([])
      }),
    ),
  )

  it.effect("an older client's recovery key that is the backup key itself, and a legacy backup passphrase", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const backupKey = randomBytes(32)
        yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId, MEGOLM_BACKUP_V1, { public_key: backupPublicKeyFromPrivate(backupKey) }))
        const direct = yield* readOnNewDevice(server, user, { recoveryKey: Redacted.make(RecoveryKey.encodeRecoveryKey(backupKey)) })
        expect(direct.read).toMatchObject({ _tag: "Right", right: { via: "RecoveryKeyAsBackupKey", backup: { version: "1" } } })
        if (direct.read._tag === "Right") expect(Redacted.value(direct.read.right.key)).toEqual(Uint8Array.from(backupKey))

        const salt = "legacySaltForBackupKey"
        const legacyKey = pbkdf2Sync("old passphrase", salt, 1000, 32, "sha512")
        const authData = { public_key: backupPublicKeyFromPrivate(legacyKey), private_key_salt: salt, private_key_iterations: 1000 }
        yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId, MEGOLM_BACKUP_V1, authData))
        const legacy = yield* readOnNewDevice(server, user, { passphrase: Redacted.make("old passphrase") })
        expect(legacy.read).toMatchObject({ _tag: "Right", right: { via: "LegacyPassphrase", backup: { version: "2" } } })
        if (legacy.read._tag === "Right") expect(Redacted.value(legacy.read.right.key)).toEqual(Uint8Array.from(legacyKey))
        expect(Option.isNone(legacy.held)).toBe(true)
      }),
    ),
  )

  it.effect("a 4S backup key that is not the current backup's key is a mismatch, not a success", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const first = yield* setUp(server, user)
        yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId))
        const { read } = yield* readOnNewDevice(server, user, { recoveryKey: Redacted.make(first.recoveryKey) })
        expect(read).toMatchObject({ _tag: "Left", left: { _tag: "DecryptionKeyDoesNotMatch", version: "2" } })
      }),
    ),
  )
})
