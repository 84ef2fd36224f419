/**
 * One recovery state a UI can show: is the backup key safe in Secret Storage and usable here, and if not, why
 * (the "key storage out of sync" cases). Computed from account data, the server's backup and the local key.
 */
import { Data } from "effect"

/** Why recovery is not ready, from the most basic missing piece to the subtlest. */
export type NotReadyReason =
  /** No default 4S key is set: recovery was never set up, or it was turned off. */
  | "NoSecretStorage"
  /** `m.secret_storage.default_key` names a key whose description is absent or blanked. */
  | "DefaultKeyMissing"
  /** The default key's algorithm is not `m.secret_storage.v1.aes-hmac-sha2`. */
  | "UnsupportedDefaultKey"
  /** The server has no key backup. */
  | "NoBackup"
  /**
   * The server reports no current backup, but a version whose key this device holds is still there (Dendrite, after
   * its newest version was deleted): its keys can be restored here, but nothing new is backed up and a new device
   * cannot find it.
   */
  | "BackupNotCurrent"
  /** 4S has no `m.megolm_backup.v1` encrypted with the default key. */
  | "BackupKeyNotInSecretStorage"
  /** The backup key in 4S is not the key of the server's current backup. */
  | "BackupKeyMismatch"
  /** Everything is on the server, but this device does not hold the backup key: enter the recovery key. */
  | "BackupKeyNotCached"

/** `Ready`, `NotReady {reason}`, `Unknown` (not computed yet) or `Error` (the server or store could not be read). */
export type RecoveryState = Data.TaggedEnum<{
  Unknown: {}
  Ready: { readonly defaultKeyId: string; readonly backupVersion: string }
  NotReady: {
    readonly reason: NotReadyReason
    readonly defaultKeyId?: string
    readonly backupVersion?: string
  }
  Error: { readonly cause: string }
}>

/** Constructors and matchers (`RecoveryState.NotReady({ reason })`, `$is("Ready")`). */
export const RecoveryState = Data.taggedEnum<RecoveryState>()

/** What the state is computed from. */
export interface RecoveryFacts {
  readonly defaultKeyId: string | undefined
  readonly defaultKey: "Absent" | "Aes" | "Unknown"
  readonly backupVersion: string | undefined
  /** False when `backupVersion` is not the server's current backup but the one this device holds a key for. */
  readonly backupIsCurrent: boolean
  /** Whether `m.megolm_backup.v1` is stored under the default key. */
  readonly backupKeyStored: boolean
  /** Whether the 4S backup key matches the backup: known only when 4S could be opened without asking the user. */
  readonly storedKeyMatches: boolean | undefined
  /** Whether this device holds a key that matches the server's backup. */
  readonly localKeyMatches: boolean
}

/** The state for a set of facts; each check is a transition a test pins down. */
export const recoveryStateOf = (facts: RecoveryFacts): RecoveryState => {
  const where = {
    ...(facts.defaultKeyId === undefined ? {} : { defaultKeyId: facts.defaultKeyId }),
    ...(facts.backupVersion === undefined ? {} : { backupVersion: facts.backupVersion }),
  }
  const notReady = (reason: NotReadyReason) => RecoveryState.NotReady({ reason, ...where })
  if (facts.defaultKeyId === undefined) return notReady("NoSecretStorage")
  if (facts.defaultKey === "Absent") return notReady("DefaultKeyMissing")
  if (facts.defaultKey === "Unknown") return notReady("UnsupportedDefaultKey")
  if (facts.backupVersion === undefined) return notReady("NoBackup")
  if (!facts.backupIsCurrent) return notReady("BackupNotCurrent")
  if (!facts.backupKeyStored) return notReady("BackupKeyNotInSecretStorage")
  if (facts.storedKeyMatches === false) return notReady("BackupKeyMismatch")
  if (!facts.localKeyMatches) return notReady("BackupKeyNotCached")
  return RecoveryState.Ready({ defaultKeyId: facts.defaultKeyId, backupVersion: facts.backupVersion })
}
