/**
 * Reading where recovery stands: js-sdk's `getSecretStorageStatus` and the facts behind the recovery state
 * (account data, the server's backup, the local key, and the 4S backup key when 4S is open without asking anyone).
 */
import { Effect, Either, Option, Redacted, Ref } from "effect"
import { heldLiveVersion } from "../backup/HeldVersion.js"
import { decodeBackupKeySecret, matchesBackup } from "../crypto/BackupKey.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { CROSS_SIGNING_SECRETS, MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { localKeyMatches } from "./BackupKeyOps.js"
import { type Deps, serverBackup, storedSecretFingerprint } from "./RecoveryDeps.js"
import { RecoveryError } from "./RecoveryError.js"
import type { RecoveryFacts } from "./RecoveryState.js"
import type { Failure } from "./SecretStorage.js"

/** js-sdk's `SecretStorageStatus`. */
export interface SecretStorageStatus {
  readonly ready: boolean
  readonly defaultKeyId: string | null
  readonly secretStorageKeyValidityMap: Readonly<Record<string, boolean>>
}

/** js-sdk `getSecretStorageStatus`: every required secret is stored under the default key (the backup key only when uploads are on). */
export const getSecretStorageStatus = (deps: Deps): Effect.Effect<SecretStorageStatus, Failure> =>
  Effect.gen(function* () {
    const names: Array<string> = deps.options.requireCrossSigningSecrets === false ? [] : [...CROSS_SIGNING_SECRETS]
    if (Option.isSome(yield* deps.engine.getActiveSessionBackupVersion())) names.push(MEGOLM_BACKUP_SECRET)
    const defaultKeyId = Option.getOrNull(yield* deps.secretStorage.getDefaultKeyId())
    const validity: Record<string, boolean> = {}
    let ready = true
    for (const name of names) {
      const stored = yield* deps.secretStorage.isStored(name)
      const valid = defaultKeyId !== null && Option.exists(stored, (keys) => defaultKeyId in keys)
      validity[name] = valid
      ready &&= valid
    }
    return { ready, defaultKeyId, secretStorageKeyValidityMap: validity }
  })

/** Whether the 4S backup key matches the backup: a known mismatch, or a check with a key already open; else unknown. */
const storedKeyMatches = (deps: Deps, backup: KeyBackupInfo & { readonly version: string }) =>
  Effect.gen(function* () {
    const fingerprint = yield* storedSecretFingerprint(deps, backup.version)
    if (Option.contains(yield* Ref.get(deps.knownMismatch), fingerprint)) return false
    const secret = yield* Effect.either(deps.secretStorage.get(MEGOLM_BACKUP_SECRET, { prompt: false }))
    if (Either.isLeft(secret) || Option.isNone(secret.right)) return undefined
    const key = decodeBackupKeySecret(Redacted.value(secret.right.value))
    if (Either.isLeft(key)) return false
    return Either.getOrUndefined(matchesBackup(key.right, backup))
  })

interface DefaultKeyFacts {
  readonly defaultKeyId: string | undefined
  readonly defaultKey: "Absent" | "Unknown" | "Aes"
}

/** The default 4S key's id and kind. */
const defaultKeyFacts = (deps: Deps): Effect.Effect<DefaultKeyFacts, Failure> =>
  Effect.flatMap(deps.secretStorage.getDefaultKeyId(), (id): Effect.Effect<DefaultKeyFacts, Failure> =>
    Option.isNone(id)
      ? Effect.succeed({ defaultKeyId: undefined, defaultKey: "Absent" })
      : Effect.map(deps.secretStorage.getKey(id.value), (key) => ({
          defaultKeyId: id.value,
          defaultKey: Option.match(key, { onNone: () => "Absent" as const, onSome: ([, info]) => (info._tag === "Unknown" ? "Unknown" as const : "Aes" as const) }),
        })),
  )

/**
 * No current backup: the version this device holds a key for, if it is still there (Dendrite's latest can be a deleted
 * version hiding it), as the engine's check looks before saying there is none.
 */
const hiddenHeldVersion = (deps: Deps) =>
  heldLiveVersion(deps.api, deps.store).pipe(Effect.catchTag("StorageError", (e) => Effect.fail(new RecoveryError({ reason: "Storage", detail: e.reason }))))

/** Everything the recovery state is decided from. */
export const gatherFacts = (deps: Deps): Effect.Effect<RecoveryFacts, Failure | RecoveryError> =>
  Effect.gen(function* () {
    // The three reads are independent: one round trip's wait instead of three (this runs after every recovery step).
    const [{ defaultKeyId, defaultKey }, backup, stored] = yield* Effect.all([defaultKeyFacts(deps), serverBackup(deps), deps.secretStorage.isStored(MEGOLM_BACKUP_SECRET)], {
      concurrency: "unbounded",
    })
    const backupKeyStored = defaultKeyId !== undefined && Option.exists(stored, (keys) => defaultKeyId in keys)
    const matches = Option.isSome(backup) && backupKeyStored && defaultKey === "Aes" ? yield* storedKeyMatches(deps, backup.value) : undefined
    const hidden = Option.isNone(backup) ? yield* hiddenHeldVersion(deps) : Option.none()
    return {
      defaultKeyId,
      defaultKey,
      backupVersion: Option.getOrUndefined(Option.orElse(Option.map(backup, (info) => info.version), () => Option.map(hidden, (held) => held.version))),
      backupIsCurrent: Option.isSome(backup),
      backupKeyStored,
      storedKeyMatches: matches,
      // A hidden version is only reported when the cached key opens it.
      localKeyMatches: Option.isSome(hidden) || (yield* localKeyMatches(deps, backup)),
    }
  })
