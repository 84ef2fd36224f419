/**
 * The backup decryption key between the local store and 4S: load it from 4S (checked against the server's backup),
 * store it locally (then the engine re-checks), read it, and copy a matching local key into 4S (PROTOCOL.md §6.5, §8.5).
 */
import { Effect, Either, Option, Redacted, Ref } from "effect"
import { BACKUP_KEY_LENGTH, decodeBackupKeySecret, encodeBackupKeySecret, matchesBackup } from "../crypto/BackupKey.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { CryptoEvent } from "../services/BackupEvents.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { StorageError } from "../store/StorageError.js"
import { type Deps, serverBackup, storedSecretFingerprint } from "./RecoveryDeps.js"
import { DecryptionKeyDoesNotMatch, RecoveryError } from "./RecoveryError.js"
import type { Failure } from "./SecretStorage.js"

const storageFailed = (error: StorageError) => new RecoveryError({ reason: "Storage", detail: error.reason })

const malformed = (detail: string) => new RecoveryError({ reason: "MalformedBackupKey", detail })
const unsupported = (backup: KeyBackupInfo) => new RecoveryError({ reason: "UnsupportedBackupAlgorithm", detail: backup.algorithm })

/** Whether a key belongs to `backup`; a backup we cannot check counts as no match. */
const keyMatches = (key: Redacted.Redacted<Uint8Array>, backup: KeyBackupInfo): boolean =>
  Either.getOrElse(matchesBackup(Redacted.value(key), backup), () => false)

/** js-sdk `storeSessionBackupPrivateKey`: keeps the key with its version, publishes the event, lets the engine re-check. */
export const storeSessionBackupPrivateKey = (deps: Deps, key: Redacted.Redacted<Uint8Array>, version: string): Effect.Effect<void, RecoveryError> =>
  Effect.gen(function* () {
    if (version.length === 0) return yield* Effect.fail(new RecoveryError({ reason: "NoVersion" }))
    if (Redacted.value(key).length !== BACKUP_KEY_LENGTH) {
      return yield* Effect.fail(new RecoveryError({ reason: "MalformedBackupKey", detail: `expected ${BACKUP_KEY_LENGTH} bytes` }))
    }
    yield* Effect.mapError(deps.store.storeBackupDecryptionKey(key, version), storageFailed)
    yield* deps.events.publish({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version })
    yield* deps.engine.onDecryptionKeyCached(version)
  }).pipe(Effect.withSpan("Recovery.storeSessionBackupPrivateKey"))

/** The locally cached backup key, if any. */
export const getSessionBackupPrivateKey = (deps: Deps): Effect.Effect<Option.Option<Redacted.Redacted<Uint8Array>>, RecoveryError> =>
  deps.store.getBackupDecryptionKey().pipe(Effect.map(Option.map((cached) => cached.key)), Effect.mapError(storageFailed))

/**
 * js-sdk `loadSessionBackupPrivateKeyFromSecretStorage`. The server's backup is read first, so nobody is asked for a
 * 4S key when there is no backup; a key that does not match it is `DecryptionKeyDoesNotMatch` and is not stored.
 */
export const loadSessionBackupPrivateKeyFromSecretStorage = (
  deps: Deps,
  options: { readonly prompt?: boolean } = {},
): Effect.Effect<string, Failure | RecoveryError | DecryptionKeyDoesNotMatch> =>
  Effect.gen(function* () {
    const backup = yield* serverBackup(deps)
    if (Option.isNone(backup)) return yield* Effect.fail(new RecoveryError({ reason: "NoBackup" }))
    const secret = yield* deps.secretStorage.get(MEGOLM_BACKUP_SECRET, options)
    if (Option.isNone(secret)) return yield* Effect.fail(new RecoveryError({ reason: "BackupKeyNotStored" }))
    const key = Redacted.make(yield* Either.mapLeft(decodeBackupKeySecret(Redacted.value(secret.value)), malformed))
    const { version } = backup.value
    const matches = yield* Either.mapLeft(matchesBackup(Redacted.value(key), backup.value), () => unsupported(backup.value))
    if (!matches) {
      const fingerprint = yield* storedSecretFingerprint(deps, version)
      yield* Ref.set(deps.knownMismatch, Option.some(fingerprint))
      return yield* Effect.fail(new DecryptionKeyDoesNotMatch({ version }))
    }
    yield* storeSessionBackupPrivateKey(deps, key, version)
    return version
  }).pipe(Effect.withSpan("Recovery.loadSessionBackupPrivateKeyFromSecretStorage"))

/** js-sdk `saveBackupKeyToStorage`: when we hold the key of the server's current backup, store it in 4S. */
export const saveBackupKeyToStorage = (deps: Deps): Effect.Effect<boolean, Failure | RecoveryError> =>
  Effect.gen(function* () {
    const backup = yield* serverBackup(deps)
    if (Option.isNone(backup)) return false
    const local = yield* Effect.mapError(deps.store.getBackupDecryptionKey(), storageFailed)
    if (Option.isNone(local)) return false
    if (!keyMatches(local.value.key, backup.value)) return false
    yield* deps.secretStorage.store(MEGOLM_BACKUP_SECRET, Redacted.make(encodeBackupKeySecret(Redacted.value(local.value.key))))
    return true
  })

/** Whether this device holds the key of `backup`. */
export const localKeyMatches = (deps: Deps, backup: Option.Option<KeyBackupInfo>): Effect.Effect<boolean, RecoveryError> =>
  Effect.map(Effect.mapError(deps.store.getBackupDecryptionKey(), storageFailed), (local) =>
    Option.isSome(backup) && Option.isSome(local) && keyMatches(local.value.key, backup.value),
  )
