/**
 * Setting up and tearing down recovery: `bootstrapSecretStorage` (a default 4S key, then the backup key in 4S or a
 * new backup) and `disableKeyStorage` (PROTOCOL.md §8.5).
 */
import { Effect, Option } from "effect"
import type { EngineError } from "../backup/EngineError.js"
import { writeKeyStoragePreference } from "../key-storage/KeyStoragePreference.js"
import { CROSS_SIGNING_SECRETS, keyEventType, MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { checkCrossSigningKeys, type CrossSigningKeys, storeCrossSigningKeys } from "./CrossSigningSecrets.js"
import type { GeneratedSecretStorageKey } from "./GeneratedKey.js"
import { loadSessionBackupPrivateKeyFromSecretStorage, localKeyMatches, saveBackupKeyToStorage } from "./BackupKeyOps.js"
import { type Deps, serverBackup } from "./RecoveryDeps.js"
import { RecoveryError } from "./RecoveryError.js"
import type { Failure } from "./SecretStorage.js"

/** js-sdk `CreateSecretStorageOpts`, with an Effect for the key callback. */
export interface BootstrapOptions<E = never> {
  /** Makes the new 4S key (usually `createRecoveryKeyFromPassphrase`, then shows `encodedPrivateKey`). */
  readonly createSecretStorageKey?: () => Effect.Effect<GeneratedSecretStorageKey, E>
  /** Make a new default key even when one exists (the old secrets become unreadable through it). */
  readonly setupNewSecretStorage?: boolean
  /** Make a new backup through the engine's `resetKeyBackup` (which stores its key in 4S). */
  readonly setupNewKeyBackup?: boolean
  /** The cross-signing private keys to store in 4S (js-sdk's `CrossSigningKeyExport`), when the app holds them. */
  readonly crossSigningKeys?: CrossSigningKeys
}

const hasAesDefaultKey = (deps: Deps) =>
  Effect.map(deps.secretStorage.getKey(), Option.exists(([, info]) => info._tag === "AesHmacSha2"))

/** Adds the generated key, makes it the default, uses it for this session and tells the app to cache it. */
const addDefaultKey = (deps: Deps, generated: GeneratedSecretStorageKey) =>
  Effect.gen(function* () {
    const { keyId, keyInfo } = yield* deps.secretStorage.addKey({
      key: generated.privateKey,
      ...(generated.keyInfo?.name === undefined ? {} : { name: generated.keyInfo.name }),
      ...(generated.keyInfo?.passphrase === undefined ? {} : { passphrase: generated.keyInfo.passphrase }),
    })
    yield* deps.secretStorage.setDefaultKeyId(keyId)
    yield* deps.secretStorage.useKey(keyId, generated.privateKey)
    yield* deps.callbacks.cacheSecretStorageKey(keyId, keyInfo, generated.privateKey)
    return keyId
  })

/** Loads the current backup's key from the old 4S when it is open in this session and we lack it; never prompts. */
const rescueBackupKey = (deps: Deps) =>
  Effect.gen(function* () {
    const backup = yield* serverBackup(deps)
    if (yield* localKeyMatches(deps, backup)) return
    yield* Effect.ignore(loadSessionBackupPrivateKeyFromSecretStorage(deps, { prompt: false }))
  })

/** js-sdk `bootstrapSecretStorage`: the backup key, and the cross-signing keys when the app gives them (this library does not make them). */
export const bootstrapSecretStorage = <E>(deps: Deps, options: BootstrapOptions<E>): Effect.Effect<void, Failure | RecoveryError | EngineError | E> =>
  Effect.gen(function* () {
    // Bad keys are refused before anything is written.
    if (options.crossSigningKeys !== undefined) yield* checkCrossSigningKeys(options.crossSigningKeys)
    const hadAesKey = yield* hasAesDefaultKey(deps)
    const needsNewKey = options.setupNewSecretStorage === true || !hadAesKey
    if (needsNewKey) {
      if (options.createSecretStorageKey === undefined) return yield* Effect.fail(new RecoveryError({ reason: "NoCreateKeyCallback" }))
      const generated = yield* options.createSecretStorageKey()
      // Replacing an open 4S: take the backup key out of the old one first, or the new 4S could not hold it.
      if (hadAesKey && options.setupNewKeyBackup !== true) yield* rescueBackupKey(deps)
      yield* addDefaultKey(deps, generated)
    }
    if (options.crossSigningKeys !== undefined) yield* storeCrossSigningKeys(deps, options.crossSigningKeys, needsNewKey)
    if (options.setupNewKeyBackup === true) yield* deps.engine.resetKeyBackup()
    else yield* saveBackupKeyToStorage(deps)
  }).pipe(Effect.withSpan("Recovery.bootstrapSecretStorage"))

/**
 * js-sdk `disableKeyStorage`: deletes the current backup version, blanks the 4S secrets, the default key's description
 * and the default key with `{}`, records `m.key_backup: {enabled: false}` (spec v1.19), and forgets the local keys.
 */
export const disableKeyStorage = (deps: Deps): Effect.Effect<void, Failure | RecoveryError | EngineError> =>
  Effect.gen(function* () {
    const backup = yield* serverBackup(deps)
    if (Option.isSome(backup)) yield* deps.engine.deleteKeyBackupVersion(backup.value.version)
    for (const name of [...CROSS_SIGNING_SECRETS, MEGOLM_BACKUP_SECRET]) yield* deps.api.putAccountData(name, {})
    const defaultKeyId = yield* deps.secretStorage.getDefaultKeyId()
    if (Option.isSome(defaultKeyId)) yield* deps.api.putAccountData(keyEventType(defaultKeyId.value), {})
    yield* deps.secretStorage.setDefaultKeyId(null)
    yield* writeKeyStoragePreference(deps.api, false)
    yield* deps.secretStorage.forgetKeys()
    yield* Effect.mapError(deps.store.clearBackupDecryptionKey(), (error) => new RecoveryError({ reason: "Storage", detail: error.reason }))
  }).pipe(Effect.withSpan("Recovery.disableKeyStorage"))
