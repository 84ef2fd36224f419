/**
 * The one error of the BackupStore port. Adapters map every native failure (SQLite, DOMException) to it;
 * its message is written by us and never carries key material or row contents.
 */
import { Data } from "effect"

/** Why a storage operation failed. */
export type StorageErrorReason =
  | "Open"
  | "Corrupt"
  | "Foreign"
  | "Migration"
  | "Io"
  | "Constraint"
  | "WrongEncryptionKey"
  | "Closed"

/** A store operation failed; `code` is the backend's own error name (`SQLITE_CORRUPT`, `QuotaExceededError`). */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly reason: StorageErrorReason
  readonly message: string
  readonly code?: string
}> {}
