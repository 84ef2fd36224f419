/**
 * The one error the bridge throws: why the restore could not start or finish, and what it had imported by then
 * (keys already in the client's crypto stay there and count as backed up).
 */
import type { RestoreError } from "@matrix-backup/core"

/** Why a restore failed. */
export type RestoreKeyBackupFailure =
  /** The client has no crypto (call `initRustCrypto` first), or no access token or user id. */
  | "NoCrypto"
  /** The client's crypto holds no backup decryption key (`getSessionBackupPrivateKey()` is null). */
  | "NoDecryptionKey"
  /** The client's crypto cannot import backed-up keys (not matrix-js-sdk's Rust crypto). */
  | "UnsupportedCrypto"
  /** matrix-js-sdk refused a batch of keys. */
  | "ImportFailed"
  | Exclude<RestoreError.RestoreError["reason"], "StoreFailure" | "NoDecryptionKey">

/** What was done before the failure. */
export interface RestoreProgress {
  readonly imported: number
  readonly failures: RestoreError.FailureCounts
}

/** A restore that failed. Carries no key material. */
export class RestoreKeyBackupError extends Error {
  override readonly name = "RestoreKeyBackupError"
  readonly reason: RestoreKeyBackupFailure
  readonly version: string | undefined
  readonly imported: number
  readonly failures: RestoreError.FailureCounts

  constructor(reason: RestoreKeyBackupFailure, message: string, progress: RestoreProgress, version?: string) {
    super(message)
    this.reason = reason
    this.version = version
    this.imported = progress.imported
    this.failures = progress.failures
  }
}
