// Bad input to Recovery: each case is a typed error, and nothing is written (the server's account data is compared
// through the testkit admin, and its request log shows no account-data PUT); a malformed recovery key fails before
// any request at all.
import { describe, expect, it } from "@effect/vitest"
import { base58 } from "@scure/base"
import type { Context } from "effect"
import { Effect, Option, Redacted } from "effect"
import { Recovery, RecoveryKey, SecretStorageSchema, SecretStorageCallbacks as Callbacks, SecretStorage } from "@matrix-backup/core"
import { accountData, accountDataWrites, deviceLayer, newDevice, newUser, randomKey, type Server, setAccountData, type TestUser, withServer, bootstrapWithRecoveryKey } from "./support.js"

const TYPES = ["m.secret_storage.default_key", SecretStorageSchema.MEGOLM_BACKUP_SECRET, "m.key_backup"]

/** The 4S account data (default key, its description, the backup secret) as the server holds it. */
const snapshot = (server: Server, user: TestUser) =>
  Effect.gen(function* () {
    const out: Record<string, unknown> = {}
    for (const type of TYPES) out[type] = yield* accountData(server, user, type)
    const defaultKey = out["m.secret_storage.default_key"]
    if (typeof defaultKey === "object" && defaultKey !== null && "key" in defaultKey) {
      const type = `m.secret_storage.key.${String(defaultKey.key)}`
      out[type] = yield* accountData(server, user, type)
    }
    return out
  })

/** Runs `f` with Recovery.Recovery on a new device of `user`, after clearing the request log; returns its failure and what was written. */
const failOnNewDevice = <E>(server: Server, user: TestUser, f: (recovery: Context.Tag.Service<Recovery.Recovery>) => Effect.Effect<unknown, E>) =>
  Effect.gen(function* () {
    const device = yield* newDevice(server, user)
    const before = yield* snapshot(server, user)
    yield* Effect.promise(() => server.admin.clearRequestLog())
    const { error, localKey } = yield* Effect.gen(function* () {
      const recovery = yield* Recovery.Recovery
      const error = yield* Effect.flip(f(recovery))
      return { error, localKey: yield* recovery.getSessionBackupPrivateKey() }
    }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
    expect(localKey).toEqual(Option.none())
    expect(yield* accountDataWrites(server)).toEqual([])
    expect(yield* snapshot(server, user)).toEqual(before)
    return error
  })

/** The recovery key's 35 bytes with `edit` applied, re-encoded (parity recomputed when `fixParity`). */
const tamper = (recoveryKey: string, edit: (bytes: Uint8Array) => void, fixParity: boolean) => {
  const bytes = base58.decode(recoveryKey.replace(/\s+/g, ""))
  edit(bytes)
  if (fixParity) bytes[34] = bytes.subarray(0, 34).reduce((a, b) => a ^ b, 0)
  return Redacted.make(base58.encode(bytes))
}

describe("Recovery: bad input is a typed error that writes nothing", () => {
  it.effect("a recovery key with a bad parity or prefix fails before any request", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = yield* bootstrapWithRecoveryKey(server, user)
        const badParity = tamper(recoveryKey, (b) => void (b[34] = (b[34] ?? 0) ^ 0xff), false)
        const badPrefix = tamper(recoveryKey, (b) => void (b[1] = 0x02), true)
        for (const [input, reason] of [[badParity, "Parity"], [badPrefix, "Prefix"], [Redacted.make("EsT0 OIl0"), "Base58"]] as const) {
          const device = yield* newDevice(server, user)
          yield* Effect.promise(() => server.admin.clearRequestLog())
          const error = yield* Effect.flip(Effect.flatMap(Recovery.Recovery, (r) => r.openSecretStorage({ recoveryKey: input }))).pipe(
            Effect.provide(deviceLayer(server, device, Callbacks.layerNone)),
          )
          expect(error).toMatchObject({ _tag: "RecoveryKeyError", reason })
          expect(yield* Effect.promise(() => server.admin.requestLog())).toEqual([])
        }
      }),
    ),
  )

  it.effect("a wrong recovery key (well formed, another key) fails with WrongKey", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* bootstrapWithRecoveryKey(server, user)
        const other = Redacted.make(RecoveryKey.encodeRecoveryKey(Redacted.value(randomKey())))
        const error = yield* failOnNewDevice(server, user, (r) =>
          Effect.zipRight(r.openSecretStorage({ recoveryKey: other }), r.loadSessionBackupPrivateKeyFromSecretStorage()),
        )
        expect(error).toMatchObject({ _tag: "SecretStorageError", reason: "WrongKey" })
        expect(String(error)).not.toContain(Redacted.value(other).slice(0, 9))
      }),
    ),
  )

  it.effect("a wrong passphrase fails with WrongKey; a passphrase for a key without m.pbkdf2 with NoPassphrase", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const passphraseUser = yield* newUser(server)
        yield* bootstrapWithRecoveryKey(server, passphraseUser, "the right one")
        const wrong = yield* failOnNewDevice(server, passphraseUser, (r) => r.openSecretStorage({ passphrase: Redacted.make("the wrong one") }))
        expect(wrong).toMatchObject({ _tag: "SecretStorageError", reason: "WrongKey" })
        const keyUser = yield* newUser(server)
        yield* bootstrapWithRecoveryKey(server, keyUser)
        const none = yield* failOnNewDevice(server, keyUser, (r) => r.openSecretStorage({ passphrase: Redacted.make("anything") }))
        expect(none).toMatchObject({ _tag: "SecretStorageError", reason: "NoPassphrase" })
      }),
    ),
  )

  it.effect("a backup secret whose MAC does not verify fails with BadMac", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = yield* bootstrapWithRecoveryKey(server, user)
        const stored = (yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)) as { encrypted: Record<string, Record<string, string>> }
        const [keyId, entry] = Object.entries(stored.encrypted)[0] ?? ["", {}]
        const mac = Buffer.from(entry["mac"] ?? "", "base64")
        mac[5] = (mac[5] ?? 0) ^ 0x10
        yield* setAccountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET, { encrypted: { [keyId]: { ...entry, mac: mac.toString("base64") } } })
        const error = yield* failOnNewDevice(server, user, (r) =>
          Effect.zipRight(r.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) }), r.loadSessionBackupPrivateKeyFromSecretStorage()),
        )
        expect(error).toMatchObject({ _tag: "SecretStorageError", reason: "BadMac", keyId, secretName: SecretStorageSchema.MEGOLM_BACKUP_SECRET })
      }),
    ),
  )

  it.effect("a missing default key: open fails with NoDefaultKey, bootstrap without a key callback with NoCreateKeyCallback", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = Redacted.make(RecoveryKey.encodeRecoveryKey(Redacted.value(randomKey())))
        expect(yield* failOnNewDevice(server, user, (r) => r.openSecretStorage({ recoveryKey }))).toMatchObject({ reason: "NoDefaultKey" })
        expect(yield* failOnNewDevice(server, user, (r) => r.bootstrapSecretStorage())).toMatchObject({ _tag: "RecoveryError", reason: "NoCreateKeyCallback" })
        yield* setAccountData(server, user, "m.secret_storage.default_key", { key: "gone" })
        expect(yield* failOnNewDevice(server, user, (r) => r.openSecretStorage({ recoveryKey }))).toMatchObject({ reason: "KeyNotFound", keyId: "gone" })
      }),
    ),
  )

  it.effect("a default key of an unknown algorithm fails with UnknownAlgorithm", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* setAccountData(server, user, "m.secret_storage.key.future", { algorithm: "m.secret_storage.v2.future", iv: "x" })
        yield* setAccountData(server, user, "m.secret_storage.default_key", { key: "future" })
        const recoveryKey = Redacted.make(RecoveryKey.encodeRecoveryKey(Redacted.value(randomKey())))
        const error = yield* failOnNewDevice(server, user, (r) => r.openSecretStorage({ recoveryKey }))
        expect(error).toMatchObject({ _tag: "SecretStorageError", reason: "UnknownAlgorithm", keyId: "future", detail: "m.secret_storage.v2.future" })
      }),
    ),
  )

  it.effect("a 4S backup key of another backup is DecryptionKeyDoesNotMatch, not stored, and the state says so", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = Redacted.make(yield* bootstrapWithRecoveryKey(server, user))
        const newVersion = yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId))
        const error = yield* failOnNewDevice(server, user, (r) =>
          Effect.gen(function* () {
            yield* r.openSecretStorage({ recoveryKey })
            const failure = yield* Effect.flip(r.loadSessionBackupPrivateKeyFromSecretStorage())
            expect(yield* r.recoveryState).toMatchObject({ _tag: "NotReady", reason: "BackupKeyMismatch", backupVersion: newVersion })
            return yield* Effect.fail(failure)
          }),
        )
        expect(error).toMatchObject({ _tag: "DecryptionKeyDoesNotMatch", version: newVersion })
      }),
    ),
  )

  it.effect("no backup on the server: load fails with NoBackup without asking the app for a key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        let asked = 0
        const callbacks = Callbacks.layerFromPromises({ getSecretStorageKey: async () => (asked++, null) })
        const error = yield* Effect.flip(Effect.flatMap(Recovery.Recovery, (r) => r.loadSessionBackupPrivateKeyFromSecretStorage())).pipe(
          Effect.provide(deviceLayer(server, user, callbacks)),
        )
        expect(error).toMatchObject({ _tag: "RecoveryError", reason: "NoBackup" })
        expect(asked).toBe(0)
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("a 4S backup secret that is not base64 of 32 bytes fails with MalformedBackupKey", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = Redacted.make(yield* bootstrapWithRecoveryKey(server, user))
        const key = Option.getOrThrow(Option.getRight(RecoveryKey.decodeRecoveryKey(Redacted.value(recoveryKey))))
        yield* Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.store(SecretStorageSchema.MEGOLM_BACKUP_SECRET, Redacted.make("bm90IDMyIGJ5dGVz"))).pipe(
          Effect.provide(deviceLayer(server, user, Callbacks.layerFromKey(Redacted.make(key)))),
        )
        const error = yield* failOnNewDevice(server, user, (r) =>
          Effect.zipRight(r.openSecretStorage({ recoveryKey }), r.loadSessionBackupPrivateKeyFromSecretStorage()),
        )
        expect(error).toMatchObject({ _tag: "RecoveryError", reason: "MalformedBackupKey" })
      }),
    ),
  )

  it.effect("storeSessionBackupPrivateKey refuses an empty version and a key that is not 32 bytes", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          expect(yield* Effect.flip(recovery.storeSessionBackupPrivateKey(randomKey(), ""))).toMatchObject({ reason: "NoVersion" })
          expect(yield* Effect.flip(recovery.storeSessionBackupPrivateKey(Redacted.make(new Uint8Array(31)), "1"))).toMatchObject({
            reason: "MalformedBackupKey",
          })
          expect(yield* recovery.getSessionBackupPrivateKey()).toEqual(Option.none())
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
      }),
    ),
  )
})
