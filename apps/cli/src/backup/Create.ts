/**
 * `create`: a new backup through core's Recovery (`bootstrapSecretStorage` with `setupNewKeyBackup`: old versions
 * deleted, the new one signed by this device, its key stored in 4S as `m.megolm_backup.v1` and kept locally), either
 * in a new Secret Storage (random key, or from a passphrase) or in the account's existing one, opened with its key.
 */
import { HomeserverApi, KeyBackupEngine, Recovery, SecretStorage } from "@matrix-backup/core"
import type { Redacted } from "effect"
import { Effect, Option } from "effect"
import { CliError, toCliError } from "../CliError.js"
import type { Secret } from "./Unlock.js"

/** What the account has before `create`. */
export interface Existing {
  readonly secretStorage: boolean
  readonly backup: Option.Option<{ readonly version: string; readonly keys: number }>
}

/** What `create` hands back: the new recovery key (absent when Secret Storage was kept) and the new version. */
export interface Created {
  readonly recoveryKey: Redacted.Redacted<string> | undefined
  readonly backupVersion: string
}

/** Whether the account has Secret Storage (a default key) and a backup. */
export const inspectAccount = Effect.gen(function* () {
  const secretStorage = yield* SecretStorage.SecretStorage
  const api = yield* HomeserverApi.HomeserverApi
  const defaultKey = yield* Effect.mapError(secretStorage.getDefaultKeyId(), toCliError)
  const backup = yield* api.getBackupVersion().pipe(
    Effect.map((info) => Option.some({ version: info.version ?? "?", keys: info.count ?? 0 })),
    Effect.catchTag("BackupNotFound", () => Effect.succeed(Option.none())),
    Effect.mapError(toCliError),
  )
  return { secretStorage: Option.isSome(defaultKey), backup } satisfies Existing
})

const activeVersion = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const version = yield* engine.getActiveSessionBackupVersion()
  if (Option.isNone(version)) return yield* new CliError({ code: "CreateFailed", message: "The new backup was made but not enabled; run `matrix-backup status`" })
  return version.value
})

/** A new Secret Storage key (replacing any) and a new backup. */
export const createWithNewSecretStorage = (passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(passphrase)
    yield* Effect.mapError(
      recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewSecretStorage: true, setupNewKeyBackup: true }),
      toCliError,
    )
    const backupVersion = yield* activeVersion
    if (generated.encodedPrivateKey === undefined) {
      return yield* new CliError({ code: "CreateFailed", message: "No recovery key was made for the new Secret Storage" })
    }
    return { recoveryKey: generated.encodedPrivateKey, backupVersion }
  })

/** A new backup whose key goes into the existing Secret Storage, opened with `secret`. */
export const createInExistingSecretStorage = (secret: Secret) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const input = secret._tag === "RecoveryKey" ? { recoveryKey: secret.value } : { recoveryKeyOrPassphrase: secret.value }
    const opened = yield* recovery.openSecretStorage(input).pipe(
      Effect.catchTag("SecretStorageError", () =>
        Effect.fail(new CliError({ code: "WrongRecoveryKey", message: "That key does not open this account's Secret Storage; check it, or add --force to replace Secret Storage" })),
      ),
      Effect.mapError(toCliError),
    )
    if (!opened.isDefault) {
      return yield* new CliError({ code: "WrongRecoveryKey", message: "That key opens an older Secret Storage key, not the current one; give the current recovery key" })
    }
    yield* Effect.mapError(recovery.bootstrapSecretStorage({ setupNewKeyBackup: true }), toCliError)
    return { recoveryKey: undefined, backupVersion: yield* activeVersion } satisfies Created
  })
