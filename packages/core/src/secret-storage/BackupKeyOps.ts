/**
 * The backup decryption key between the local store and 4S: load it from 4S (checked against the server's backup),
 * store it locally (then the engine re-checks), read it, and copy a matching local key into 4S (PROTOCOL.md §6.5, §8.5).
 */
import { Effect, Either, Option, Redacted, Ref } from "effect"
import { encodeBase64 } from "../schema/Base64.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { CryptoEvent } from "../services/BackupEvents.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { StorageError } from "../store/StorageError.js"
import { decodeBackupKeySecret, decryptionKeyMatches } from "./BackupKeyMatch.js"
import { type Deps, serverBackup, storedSecretFingerprint } from "./RecoveryDeps.js"
import { DecryptionKeyDoesNotMatch, RecoveryError } from "./RecoveryError.js"
import type { Failure } from "./SecretStorage.js"

const storageFailed = (error: StorageError) => new RecoveryError({ reason: "Storage", detail: error.reason })

/** js-sdk `storeSessionBackupPrivateKey`: keeps the key with its version, publishes the event, lets the engine re-check. */
export const storeSessionBackupPrivateKey = (deps: Deps, key: Redacted.Redacted<Uint8Array>, version: string): Effect.Effect<void, RecoveryError> =>
  Effect.gen(function* () {
    if (version.length === 0) return yield* Effect.fail(new RecoveryError({ reason: "NoVersion" }))
    if (Redacted.value(key).length !== 32) return yield* Effect.fail(new RecoveryError({ reason: "MalformedBackupKey", detail: "expected 32 bytes" }))
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
    const key = yield* decodeBackupKeySecret(secret.value)
    const { version } = backup.value
    if (!(yield* decryptionKeyMatches(key, backup.value))) {
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
    const matches = Either.getOrElse(decryptionKeyMatches(local.value.key, backup.value), () => false)
    if (!matches) return false
    yield* deps.secretStorage.store(MEGOLM_BACKUP_SECRET, Redacted.make(encodeBase64(Redacted.value(local.value.key))))
    return true
  })

/** Whether this device holds the key of `backup`. */
export const localKeyMatches = (deps: Deps, backup: Option.Option<KeyBackupInfo>): Effect.Effect<boolean, RecoveryError> =>
  Effect.map(Effect.mapError(deps.store.getBackupDecryptionKey(), storageFailed), (local) =>
    Option.isSome(backup) && Option.isSome(local) && Either.getOrElse(decryptionKeyMatches(local.value.key, backup.value), () => false),
  )
