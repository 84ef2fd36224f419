/**
 * `diagnoseKeyStorage`: gathers the facts from the account (backup, 4S, MSC4287 preference), the store and the
 * engine, and reads the drifts from them. Writes nothing; asks for the 4S key only when `prompt` is set. An engine
 * that has not checked the server yet (a process just started) checks first, so its uploads are judged as they run.
 */
import { type Context, Effect, Either, Option, Redacted } from "effect"
import type { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import { activeVersionOf } from "../backup/BackupState.js"
import { liveVersionOpenedBy } from "../backup/HeldVersion.js"
import { decodeBackupKeySecret, matchesBackup } from "../crypto/BackupKey.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { BackupVersion } from "../schema/Ids.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import type { Recovery } from "../secret-storage/Recovery.js"
import { serverBackup } from "../secret-storage/RecoveryDeps.js"
import type { Failure, SecretStorage } from "../secret-storage/SecretStorage.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { DeviceKeys } from "../services/DeviceKeys.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { StorageError } from "../store/StorageError.js"
import { allChecks, isSigned, type TrustVerdict } from "../trust/TrustVerdict.js"
import { driftsOf } from "./Drifts.js"
import type { CachedKeyFacts, KeyStorageDiagnosis, SecretStorageFacts, ServerBackupFacts, StoredBackupKey, UploadFacts } from "./KeyStorageDiagnosis.js"
import { readKeyStoragePreference } from "./KeyStoragePreference.js"
import { heldMasterKeyId, masterKeyInSecretStorage } from "./SignBackup.js"

/** The services a diagnosis reads. */
export interface DiagnoseDeps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly engine: Context.Tag.Service<KeyBackupEngine>
  readonly store: Context.Tag.Service<BackupStore>
  readonly secretStorage: Context.Tag.Service<SecretStorage>
  readonly recovery: Context.Tag.Service<Recovery>
  readonly device: Context.Tag.Service<DeviceKeys>
}

/** Options of a diagnosis. */
export interface DiagnoseOptions {
  /** Ask the app's callbacks for the 4S key when it is not open yet (default false: report `Locked`). */
  readonly prompt?: boolean
}

/** What can stop a diagnosis: the server or the store could not be read. */
export type DiagnoseError = Failure | StorageError

type CurrentBackup = KeyBackupInfo & { readonly version: BackupVersion }

/**
 * The master key's signature on the backup: `Valid` when the account's published master key or the one we hold
 * signed it (a held key that is not the account's does not hide a signature the account already made);
 * else `Missing` when a master key is at hand to sign (held, or in an open 4S), `NotHeld` if not.
 */
const masterKeySignature = (deps: DiagnoseDeps, verdict: TrustVerdict): Effect.Effect<"Valid" | "Missing" | "NotHeld", Failure> =>
  Effect.gen(function* () {
    const byAccount = verdict.userIdentitySignature
    if (isSigned(byAccount)) return "Valid"
    const held = yield* heldMasterKeyId(deps.device)
    if (held !== undefined) return allChecks(verdict).some((check) => check.keyId === held && isSigned(check)) ? "Valid" : "Missing"
    return (yield* masterKeyInSecretStorage(deps.secretStorage)) ? "Missing" : "NotHeld"
  })

const serverFacts = (deps: DiagnoseDeps, backup: Option.Option<CurrentBackup>): Effect.Effect<ServerBackupFacts, Failure> =>
  Option.match(backup, {
    onNone: () => Effect.succeed({ _tag: "None" as const }),
    onSome: (info) =>
      Effect.flatMap(deps.engine.isKeyBackupTrusted(info), (result) => Effect.map(masterKeySignature(deps, result.details), (signature) => ({
        _tag: "Backup" as const,
        version: info.version,
        algorithm: info.algorithm,
        trusted: result.trusted,
        matchesDecryptionKey: result.matchesDecryptionKey,
        trustReasons: allChecks(result.details).map((check) => `${check.keyId || "(none)"}: ${check.reason}`),
        decryptionKey: result.details.decryptionKey,
        unsupportedAlgorithm: result.details.unsupportedAlgorithm,
        masterKeySignature: signature,
      }))),
  })

/** Whether `key` opens `info`; an algorithm we cannot check counts as no. */
const opens = (key: Uint8Array, info: KeyBackupInfo): boolean => Either.getOrElse(matchesBackup(key, info), () => false)

/** The cached key and the live version it opens: the current one, or the (older) version it was cached for. */
const cachedKeyFacts = (deps: DiagnoseDeps, backup: Option.Option<CurrentBackup>): Effect.Effect<CachedKeyFacts, DiagnoseError> =>
  Effect.gen(function* () {
    const cached = yield* deps.store.getBackupDecryptionKey()
    if (Option.isNone(cached)) return { _tag: "None" as const }
    const { version } = cached.value
    const matchesCurrent = Option.exists(backup, (info) => info.version === version && opens(Redacted.value(cached.value.key), info))
    if (matchesCurrent) return { _tag: "Cached" as const, version, matchesCurrent, opensLiveVersion: version }
    // The current version was just read: asking for it again by number would say the same.
    const isCurrent = Option.exists(backup, (info) => info.version === version)
    const opensLive = !isCurrent && Option.isSome(yield* liveVersionOpenedBy(deps.api, cached.value))
    return { _tag: "Cached" as const, version, matchesCurrent, ...(opensLive ? { opensLiveVersion: version } : {}) }
  })

/** The backup key in 4S under the default key, compared with the current backup. */
const storedBackupKey = (deps: DiagnoseDeps, defaultKeyId: string, backup: Option.Option<CurrentBackup>, prompt: boolean): Effect.Effect<StoredBackupKey, Failure> =>
  Effect.gen(function* () {
    const stored = yield* deps.secretStorage.isStored(MEGOLM_BACKUP_SECRET)
    if (!Option.exists(stored, (keys) => defaultKeyId in keys)) return "NotStored"
    const secret = yield* Effect.either(deps.secretStorage.get(MEGOLM_BACKUP_SECRET, { prompt }))
    if (Either.isLeft(secret)) {
      const error = secret.left
      if (error._tag !== "SecretStorageError") return yield* Effect.fail(error)
      return error.reason === "BadMac" || error.reason === "Malformed" ? "Malformed" : "Locked"
    }
    if (Option.isNone(secret.right)) return "NotStored"
    const key = decodeBackupKeySecret(Redacted.value(secret.right.value))
    if (Either.isLeft(key)) return "Malformed"
    return Option.match(backup, { onNone: () => "Stored", onSome: (info) => (opens(key.right, info) ? "MatchesCurrent" : "Differs") })
  })

const secretStorageFacts = (deps: DiagnoseDeps, backup: Option.Option<CurrentBackup>, prompt: boolean): Effect.Effect<SecretStorageFacts, Failure> =>
  Effect.gen(function* () {
    const defaultKeyId = yield* deps.secretStorage.getDefaultKeyId()
    if (Option.isNone(defaultKeyId)) return { defaultKey: "NotSet", backupKey: "NotStored" }
    const keyId = defaultKeyId.value
    const description = yield* deps.secretStorage.getKey(keyId)
    if (Option.isNone(description)) return { defaultKey: "Absent", defaultKeyId: keyId, backupKey: "NotStored" }
    if (description.value[1]._tag === "Unknown") return { defaultKey: "Unknown", defaultKeyId: keyId, backupKey: "NotStored" }
    return { defaultKey: "Aes", defaultKeyId: keyId, backupKey: yield* storedBackupKey(deps, keyId, backup, prompt) }
  })

const uploadFacts = (deps: DiagnoseDeps): Effect.Effect<UploadFacts, StorageError> =>
  Effect.gen(function* () {
    if ((yield* deps.engine.state)._tag === "Unknown") yield* deps.engine.checkKeyBackupAndEnable(false)
    const state = yield* deps.engine.state
    const active = activeVersionOf(state)
    const pending = active === undefined ? 0 : yield* deps.store.countPending(active)
    return { state: state._tag, ...(active === undefined ? {} : { activeVersion: active }), pending }
  })

/** The full report. */
export const diagnoseKeyStorage = (deps: DiagnoseDeps, options: DiagnoseOptions = {}): Effect.Effect<KeyStorageDiagnosis, DiagnoseError> =>
  Effect.gen(function* () {
    const backup = yield* serverBackup(deps)
    const facts = {
      preference: yield* readKeyStoragePreference(deps.api),
      server: yield* serverFacts(deps, backup),
      cachedKey: yield* cachedKeyFacts(deps, backup),
      secretStorage: yield* secretStorageFacts(deps, backup, options.prompt ?? false),
      uploads: yield* uploadFacts(deps),
      recovery: yield* deps.recovery.recoveryState,
    }
    const drifts = driftsOf(facts)
    return { ...facts, drifts, healthy: drifts.length === 0 }
  }).pipe(Effect.withSpan("KeyStorage.diagnoseKeyStorage"))
