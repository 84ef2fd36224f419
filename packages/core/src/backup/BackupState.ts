/**
 * The upload state of the backup engine, as a value and a stream; the KeyBackup* events follow its transitions.
 */
import { Data } from "effect"

/** Why uploads are off. */
export type DisabledReason =
  | "NoBackup"
  | "NotTrusted"
  | "UnsupportedAlgorithm"
  | "UnusablePublicKey"
  | "Deleted"
  | "Requested"
  | "WrongBackupVersion"
  | "BackupNotFound"
  /** The account chose no key storage (`m.key_backup {enabled: false}`, MSC4287). */
  | "KeyStorageOff"
  /** The version this device holds a key for is live, but the server's "latest" is not it (Dendrite after a delete). */
  | "NotCurrent"

/**
 * Why the engine could not do what it tried. It keeps trying where that makes sense; after `UploadRejected` (the
 * server kept refusing uploads to a version it still calls current) it waits for new keys or a new check.
 */
export type ErrorReason = "CheckFailed" | "UploadFailed" | "RateLimited" | "Storage" | "UploadRejected"

/** `Unknown → Checking → Enabled ⇄ Uploading`, `Disabled {reason}`, `Error {reason}`. */
export type BackupState = Data.TaggedEnum<{
  /** No check has finished yet. */
  Unknown: {}
  /** A check of the server's backup is running and uploads are not enabled. */
  Checking: {}
  /** Uploads go to `version`; nothing is being sent right now. */
  Enabled: { readonly version: string }
  /** A batch was just sent; `remaining` keys are still pending for `version` (exact, from the store's counters). */
  Uploading: { readonly version: string; readonly remaining: number }
  /**
   * Uploads are off; `version` is the backup that was refused or left, when there is one. After a version error,
   * `currentVersion` is the version the server named as current, when it named one.
   */
  Disabled: { readonly reason: DisabledReason; readonly version?: string; readonly currentVersion?: string }
  /**
   * A failure; uploads (if enabled for `version`) retry after `retryInMs`. `errcode`, `status` and `serverMessage`
   * are the server's last answer, when there was one; `failures` counts consecutive failed uploads.
   */
  Error: {
    readonly reason: ErrorReason
    readonly version?: string
    readonly errcode?: string
    readonly status?: number
    readonly serverMessage?: string
    readonly failures?: number
    readonly retryInMs?: number
  }
}>

/** Constructors and matchers (`BackupState.Enabled({ version })`, `$is("Disabled")`, `$match`). */
export const BackupState = Data.taggedEnum<BackupState>()

/** The version uploads currently target, if any. */
export const activeVersionOf = (state: BackupState): string | undefined =>
  state._tag === "Enabled" || state._tag === "Uploading" ? state.version : state._tag === "Error" ? state.version : undefined
