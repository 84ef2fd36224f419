/**
 * Reads the backup decryption key for `export` without keeping anything: the recovery key or passphrase opens Secret
 * Storage (core's Recovery), `m.megolm_backup.v1` is read from it and checked against the server's backup; a
 * recovery key that is the backup key itself (older clients) and a legacy backup passphrase are accepted when their
 * public key is the backup's (PROTOCOL.md §5, §6.5).
 */
import {
  Base64,
  Bytes,
  type BackupInfo,
  CryptoBackend,
  Curve25519,
  HomeserverApi,
  type Ids,
  Recovery,
  RecoveryKey,
  SecretStorage,
  SecretStorageService,
} from "@matrix-backup/core"
import { Effect, Either, Option, Redacted } from "effect"
import { CliError, toCliError } from "../CliError.js"

/** What the user gave to open the backup. */
export type Secret =
  | { readonly _tag: "RecoveryKey"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "Passphrase"; readonly value: Redacted.Redacted<string> }

/** An unlocked backup: its decryption key and the server's info for that version. */
export interface Unlocked {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly version: Ids.BackupVersion
  readonly info: BackupInfo.KeyBackupInfo
}

/** The secret is well-formed but opens neither Secret Storage nor the backup. */
export const wrongSecret = (secret: Secret) =>
  secret._tag === "RecoveryKey"
    ? new CliError({ code: "WrongRecoveryKey", message: "That recovery key does not open this account's key backup; check it against the one you saved (it may belong to an older backup)" })
    : new CliError({ code: "WrongPassphrase", message: "That passphrase does not open this account's key backup; check it, or use the recovery key" })

/** The server's current backup, which must be curve25519. */
const currentBackup = Effect.gen(function* () {
  const api = yield* HomeserverApi.HomeserverApi
  const info = yield* api.getBackupVersion().pipe(
    Effect.catchTag("BackupNotFound", () =>
      Effect.fail(new CliError({ code: "NoBackup", message: "There is no key backup on the homeserver; run `matrix-backup create` to make one" })),
    ),
    Effect.mapError(toCliError),
  )
  if (info.auth_data._tag !== "Curve25519" || info.version === undefined) {
    return yield* new CliError({ code: "UnsupportedBackup", message: `Backup algorithm ${info.algorithm} is not supported` })
  }
  return { info, version: info.version, publicKey: info.auth_data.public_key }
})

/** The backup key from 4S, when the secret opens it and the secret is stored there. */
const fromSecretStorage = (secret: Secret) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const secretStorage = yield* SecretStorageService.SecretStorage
    const input = secret._tag === "RecoveryKey" ? { recoveryKey: secret.value } : { passphrase: secret.value }
    const opened = yield* Effect.either(recovery.openSecretStorage(input))
    if (Either.isLeft(opened)) {
      if (opened.left._tag === "RecoveryKeyError") return yield* toCliError(opened.left)
      return Option.none<Uint8Array>()
    }
    const stored = yield* Effect.orElseSucceed(secretStorage.get(SecretStorage.MEGOLM_BACKUP_SECRET, { prompt: false }), () => Option.none())
    return Option.flatMap(stored, (text) => Option.fromNullable(Base64.decodeBase64(Redacted.value(text).replace(/=+$/, ""))))
  })

/** The secret read directly as a backup key: the recovery key decoded, or the legacy passphrase derivation. */
const asBackupKey = (secret: Secret, info: BackupInfo.KeyBackupInfo) =>
  Effect.gen(function* () {
    if (secret._tag === "RecoveryKey") return Either.getRight(RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value)))
    if (info.auth_data._tag !== "Curve25519") return Option.none<Uint8Array>()
    const { private_key_salt: salt, private_key_iterations: iterations, private_key_bits: bits } = info.auth_data
    if (salt === undefined || iterations === undefined) return Option.none<Uint8Array>()
    const crypto = yield* CryptoBackend.CryptoBackend
    return Option.some(Redacted.value(yield* crypto.pbkdf2Sha512(secret.value, salt, iterations, bits ?? 256)))
  })

/** Opens the current backup with the user's secret; a malformed recovery key fails before any request. */
export const unlock = (secret: Secret) =>
  Effect.gen(function* () {
    if (secret._tag === "RecoveryKey") {
      const decoded = RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value))
      if (Either.isLeft(decoded)) return yield* toCliError(decoded.left)
      decoded.right.fill(0)
    }
    const backup = yield* currentBackup
    const matches = (key: Uint8Array) => key.length === 32 && Bytes.constantTimeEqual(Curve25519.publicKeyFromPrivateKey(key), backup.publicKey)
    const stored = yield* fromSecretStorage(secret)
    if (Option.isSome(stored)) {
      if (!matches(stored.value)) {
        return yield* new CliError({
          code: "KeyMismatch",
          message: "The key in Secret Storage is not the key of the backup on the homeserver (the backup was replaced?); `matrix-backup status` says more",
        })
      }
      return { key: Redacted.make(stored.value), version: backup.version, info: backup.info } satisfies Unlocked
    }
    const direct = yield* asBackupKey(secret, backup.info)
    if (Option.isSome(direct) && matches(direct.value)) return { key: Redacted.make(direct.value), version: backup.version, info: backup.info } satisfies Unlocked
    return yield* wrongSecret(secret)
  })

/** Opens the current backup with the key this device holds, when it holds the right one. */
export const unlockWithHeldKey = Effect.gen(function* () {
  const recovery = yield* Recovery.Recovery
  const held = yield* Effect.mapError(recovery.getSessionBackupPrivateKey(), toCliError)
  if (Option.isNone(held)) return Option.none<Unlocked>()
  const backup = yield* currentBackup
  const key = Redacted.value(held.value)
  if (key.length !== 32 || !Bytes.constantTimeEqual(Curve25519.publicKeyFromPrivateKey(key), backup.publicKey)) return Option.none<Unlocked>()
  return Option.some({ key: held.value, version: backup.version, info: backup.info } satisfies Unlocked)
})
