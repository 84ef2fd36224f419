/**
 * Gives this device the backup decryption key from what the user typed, through core's Recovery: the recovery key
 * or passphrase opens Secret Storage and `m.megolm_backup.v1` is loaded (checked against the server's backup).
 * When 4S does not open with it, a recovery key may be the backup key itself (older clients): it is accepted only
 * if its public key is the backup's. A legacy backup passphrase is left to `restoreKeyBackupWithPassphrase`.
 */
import { Bytes, Curve25519, KeyBackupEngine, Recovery, RecoveryKey } from "@matrix-backup/core"
import { Effect, Either, Option, Redacted } from "effect"
import { CliError, toCliError } from "../CliError.js"
import { type Secret, wrongSecret } from "./Unlock.js"

/** How the key was obtained. */
export type Opened =
  | { readonly via: "SecretStorage" | "BackupKey"; readonly version: string }
  | { readonly via: "LegacyPassphrase" }
  /** The device already held the key (no secret needed). */
  | { readonly via: "HeldKey" }

/** Errors that mean "this secret does not open 4S" (so another reading of it may still work). */
const notThisKey = (error: unknown) =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  error._tag === "SecretStorageError" &&
  "reason" in error &&
  ["WrongKey", "NoDefaultKey", "KeyNotFound", "NotStored", "BadMac", "NoKeyGiven", "UnknownAlgorithm"].includes(String(error.reason))

/** The server's current backup, which must exist. */
const currentBackup = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const check = yield* engine.checkKeyBackupAndEnable(true)
  if (Option.isNone(check)) {
    return yield* new CliError({ code: "NoBackup", message: "There is no key backup on the homeserver; run `matrix-backup create` to make one" })
  }
  return check.value.backupInfo
})

/** A recovery key that is the backup key itself: stored only if it matches the backup's public key. */
const asBackupKey = (secret: Secret) =>
  Effect.gen(function* () {
    const info = yield* currentBackup
    const decoded = RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value))
    if (Either.isLeft(decoded) || info.auth_data._tag !== "Curve25519" || info.version === undefined) return yield* wrongSecret(secret)
    if (!Bytes.constantTimeEqual(Curve25519.publicKeyFromPrivateKey(decoded.right), info.auth_data.public_key)) {
      decoded.right.fill(0)
      return yield* wrongSecret(secret)
    }
    const recovery = yield* Recovery.Recovery
    yield* Effect.mapError(recovery.storeSessionBackupPrivateKey(Redacted.make(decoded.right), info.version), toCliError)
    return { via: "BackupKey", version: info.version } satisfies Opened
  })

/** Opens the backup for this device; a malformed recovery key fails before any request. */
export const openBackup = (secret: Secret): Effect.Effect<Opened, CliError, Recovery.Recovery | KeyBackupEngine.KeyBackupEngine> =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const input = secret._tag === "RecoveryKey" ? { recoveryKey: secret.value } : { passphrase: secret.value }
    const opened = yield* Effect.either(
      Effect.zipRight(recovery.openSecretStorage(input), recovery.loadSessionBackupPrivateKeyFromSecretStorage()),
    )
    if (Either.isRight(opened)) return { via: "SecretStorage", version: opened.right } satisfies Opened
    const error = opened.left
    if (error._tag === "RecoveryKeyError") return yield* toCliError(error)
    if (error._tag === "DecryptionKeyDoesNotMatch") {
      return yield* new CliError({
        code: "KeyMismatch",
        message: "The key in Secret Storage is not the key of the backup on the homeserver (the backup was replaced?); `matrix-backup status` says more",
      })
    }
    if (!notThisKey(error)) return yield* toCliError(error)
    if (secret._tag === "RecoveryKey") return yield* asBackupKey(secret)
    return { via: "LegacyPassphrase" } satisfies Opened
  })
