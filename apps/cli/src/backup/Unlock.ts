/**
 * The backup's key from what the user gave, through core's Recovery: the recovery key or passphrase opens Secret
 * Storage and `m.megolm_backup.v1` is read (or the input is read as the backup key itself: older clients' recovery
 * keys, legacy backup passphrases), always checked against the server's current backup. `unlock` keeps nothing
 * (export); `unlockAndKeep` stores the key on this device (restore), as the engine then uses it.
 */
import type { BackupInfo} from "@matrix-backup/core";
import { BackupKey, BackupStore, HeldVersion, HomeserverApi, Ids, Recovery } from "@matrix-backup/core"
import { Effect, Either, Option, Redacted } from "effect"
import { CliError, noBackupError, toCliError } from "../CliError.js"
import type { HeldKeyOfOtherVersion } from "../Secrets.js"

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

/** The secret as core's Recovery takes it (opening Secret Storage, or reading the backup key). */
export const recoveryInput = (
  secret: Secret,
): { readonly recoveryKey: Redacted.Redacted<string> } | { readonly passphrase: Redacted.Redacted<string> } =>
  secret._tag === "RecoveryKey" ? { recoveryKey: secret.value } : { passphrase: secret.value }

/** The secret is well-formed but opens neither Secret Storage nor the backup. */
export const wrongSecret = (secret: Secret) =>
  secret._tag === "RecoveryKey"
    ? new CliError({ code: "WrongRecoveryKey", message: "That recovery key does not open this account's key backup; check it against the one you saved (it may belong to an older backup)" })
    : new CliError({ code: "WrongPassphrase", message: "That passphrase does not open this account's key backup; check it, or use the recovery key" })

/** Reads the current backup's key with `secret`; stores nothing. A malformed recovery key fails before any request. */
export const unlock = (secret: Secret): Effect.Effect<Unlocked, CliError, Recovery.Recovery> =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const read = yield* recovery.readSessionBackupPrivateKey(recoveryInput(secret)).pipe(
      Effect.catchIf(
        (e) => e._tag === "RecoveryError" && e.reason === "SecretDoesNotOpenBackup",
        () => Effect.fail(wrongSecret(secret)),
      ),
      Effect.mapError(toCliError),
    )
    return { key: read.key, version: Ids.BackupVersion.make(read.backup.version), info: read.backup }
  })

/** `unlock`, then the key is kept on this device for its version. */
export const unlockAndKeep = (secret: Secret): Effect.Effect<Unlocked, CliError, Recovery.Recovery> =>
  Effect.tap(unlock(secret), (unlocked) =>
    Effect.flatMap(Recovery.Recovery, (recovery) => Effect.mapError(recovery.storeSessionBackupPrivateKey(unlocked.key, unlocked.version), toCliError)),
  )

/** An unlocked backup whose key is in this device's store, and the Recovery's own keeping of it still to run. */
export interface KeptLocally {
  readonly unlocked: Unlocked
  readonly announce: Effect.Effect<void, CliError>
}

/**
 * `unlock`, then the key is written to this device's store at once, which is all a restore reads; `announce` is
 * `Recovery.storeSessionBackupPrivateKey` (its event, the engine's check of the backup: a few requests, the device
 * key's first use), for the caller to run alongside the restore instead of before its download.
 */
export const unlockAndKeepLocally = (
  secret: Secret,
): Effect.Effect<KeptLocally, CliError, Recovery.Recovery | BackupStore.BackupStore> =>
  Effect.gen(function* () {
    const unlocked = yield* unlock(secret)
    const store = yield* BackupStore.BackupStore
    yield* Effect.mapError(store.storeBackupDecryptionKey(unlocked.key, unlocked.version), toCliError)
    const recovery = yield* Recovery.Recovery
    return { unlocked, announce: Effect.mapError(recovery.storeSessionBackupPrivateKey(unlocked.key, unlocked.version), toCliError) }
  })

/**
 * The version this device holds a key for, when the server still has it and the key opens it, although its "latest"
 * says there is no backup: Dendrite counts a deleted newer version as latest, hiding older live ones.
 */
export const heldBackupBehindMissingLatest: Effect.Effect<Option.Option<Unlocked>, CliError, BackupStore.BackupStore | HomeserverApi.HomeserverApi> =
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const api = yield* HomeserverApi.HomeserverApi
    return yield* Effect.mapError(HeldVersion.heldLiveVersion(api, store), toCliError)
  })

/** The server's current backup (its "latest" version), None when it reports none. */
const latestBackup: Effect.Effect<Option.Option<BackupInfo.KeyBackupInfo>, CliError, HomeserverApi.HomeserverApi> = Effect.flatMap(
  HomeserverApi.HomeserverApi,
  (api) =>
    api.getBackupVersion().pipe(
      Effect.map(Option.some),
      Effect.catchTag("BackupNotFound", () => Effect.succeedNone),
      Effect.mapError(toCliError),
    ),
)

/** The current backup opened with the key this device holds, when it holds the right one. */
export const unlockWithHeldKey: Effect.Effect<
  Option.Option<Unlocked>,
  CliError,
  Recovery.Recovery | HomeserverApi.HomeserverApi | BackupStore.BackupStore
> = Effect.gen(function* () {
  const recovery = yield* Recovery.Recovery
  const held = yield* Effect.mapError(recovery.getSessionBackupPrivateKey(), toCliError)
  if (Option.isNone(held)) return Option.none()
  const latest = yield* latestBackup
  if (Option.isNone(latest)) {
    const behind = yield* heldBackupBehindMissingLatest
    return Option.isSome(behind) ? behind : yield* noBackupError()
  }
  const info = latest.value
  const opens = Either.getOrElse(BackupKey.matchesBackup(Redacted.value(held.value), info), () => false)
  if (info.version === undefined || !opens) return Option.none()
  return Option.some({ key: held.value, version: Ids.BackupVersion.make(info.version), info })
})

/** The version of the key this device holds, when the server's current backup is another one (it was replaced). */
export const heldKeyOfOtherVersion: Effect.Effect<
  Option.Option<HeldKeyOfOtherVersion>,
  CliError,
  HomeserverApi.HomeserverApi | BackupStore.BackupStore
> = Effect.gen(function* () {
  const store = yield* BackupStore.BackupStore
  const held = yield* Effect.mapError(store.getBackupDecryptionKey(), toCliError)
  if (Option.isNone(held)) return Option.none()
  const current = Option.flatMap(yield* latestBackup, (info) => Option.fromNullable(info.version))
  return Option.filter(Option.map(current, (version) => ({ held: held.value.version, current: version })), (v) => v.held !== v.current)
})
