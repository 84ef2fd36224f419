/**
 * Failures of recovery (the backup key's life in 4S): a typed reason for each, never key material.
 */
import { Data } from "effect"

/** The backup key from 4S (or given) is not the key of the server's current backup (js-sdk `DecryptionKeyDoesNotMatchError`). */
export class DecryptionKeyDoesNotMatch extends Data.TaggedError("DecryptionKeyDoesNotMatch")<{
  /** The server's current backup version. */
  readonly version: string
}> {
  override get message(): string {
    return `The backup decryption key does not match backup version ${this.version}`
  }
}

/** Why a recovery operation could not go on. */
export class RecoveryError extends Data.TaggedError("RecoveryError")<{
  readonly reason:
    /** The server has no backup version. */
    | "NoBackup"
    /** 4S holds no `m.megolm_backup.v1`. */
    | "BackupKeyNotStored"
    /** The 4S secret is not base64 of 32 bytes. */
    | "MalformedBackupKey"
    /** The server's backup uses an algorithm whose key we cannot check. */
    | "UnsupportedBackupAlgorithm"
    /** A new 4S key is needed and no `createSecretStorageKey` was given. */
    | "NoCreateKeyCallback"
    /** A backup version must be a non-empty string. */
    | "NoVersion"
    /** The local store failed. */
    | "Storage"
    /** What the user gave opens neither Secret Storage nor the backup (a wrong recovery key or passphrase). */
    | "SecretDoesNotOpenBackup"
    /** A cross-signing private key given to `bootstrapSecretStorage` is not base64 of 32 bytes. */
    | "InvalidCrossSigningKeys"
  readonly detail?: string
}> {
  override get message(): string {
    return `Recovery: ${this.reason}${this.detail === undefined ? "" : ` (${this.detail})`}`
  }
}
