/**
 * Outcomes of a restore: the typed error that stops one before or during the download, the per-key
 * failure reasons that never stop it, and js-sdk's `ImportRoomKeyProgressData` (PROTOCOL.md §8.3).
 */
import { Data } from "effect"
import type { StorageError } from "../store/StorageError.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { RoomKeySinkError } from "../services/RoomKeySink.js"
import type { FailedEntry } from "./DecryptEntries.js"

/** Why one backed-up key was not imported. Counted, never fatal (except `StoreFailure`, which stops the run). */
export type FailureReason =
  /** The `KeyBackupData` envelope did not decode (e.g. `session_data` not an object). */
  | "MalformedEntry"
  /** `session_data` lacks a field, or its base64 or lengths are wrong. */
  | "MalformedSessionData"
  /** The ephemeral key gives an all-zero shared secret. */
  | "WeakSharedSecret"
  /** The MAC does not match: wrong key, or a damaged entry. */
  | "BadMac"
  /** The AES-CBC padding is wrong. */
  | "BadPadding"
  /** The plaintext is not JSON, or a field has the wrong type. */
  | "MalformedPlaintext"
  /** A required plaintext field is absent. */
  | "MissingFields"
  /** The plaintext's room-key algorithm is not `m.megolm.v1.aes-sha2`. */
  | "UnknownAlgorithm"
  /** `session_key` is not a Megolm session export. */
  | "InvalidSessionKey"
  /** The store refused the batch (the restore stops; the batch is counted here). */
  | "StoreFailure"

/** Every failure reason, in a stable order (for zeroed counters and reports). */
export const FAILURE_REASONS: ReadonlyArray<FailureReason> = [
  "MalformedEntry",
  "MalformedSessionData",
  "WeakSharedSecret",
  "BadMac",
  "BadPadding",
  "MalformedPlaintext",
  "MissingFields",
  "UnknownAlgorithm",
  "InvalidSessionKey",
  "StoreFailure",
]

/** Failure counts by reason. */
export type FailureCounts = Readonly<Record<FailureReason, number>>

/** Counters with every reason at zero. */
export const emptyFailureCounts = (): Record<FailureReason, number> => ({
  MalformedEntry: 0,
  MalformedSessionData: 0,
  WeakSharedSecret: 0,
  BadMac: 0,
  BadPadding: 0,
  MalformedPlaintext: 0,
  MissingFields: 0,
  UnknownAlgorithm: 0,
  InvalidSessionKey: 0,
  StoreFailure: 0,
})

/** Sum of all failure counts. */
export const totalFailures = (counts: FailureCounts): number => FAILURE_REASONS.reduce((sum, reason) => sum + counts[reason], 0)

/** How many failed entries a result lists (the counts cover them all; `onFailure` sees every one). */
export const MAX_LISTED_FAILURES = 100

/**
 * What a restore did. `total` is the number of sessions the server sent; `imported` those this run
 * stored; `skipped` those in rooms an interrupted earlier run had completed. `total = imported + skipped +
 * sum(failures)`. `failed` lists the first `MAX_LISTED_FAILURES` entries that failed to decrypt or decode.
 */
export interface KeyBackupRestoreResult {
  readonly total: number
  readonly imported: number
  readonly skipped: number
  readonly failures: FailureCounts
  readonly failed: ReadonlyArray<FailedEntry>
}

/** matrix-js-sdk's `ImportRoomKeyProgressData`. */
export type ImportRoomKeyProgressData =
  | { readonly stage: "fetch" }
  | { readonly stage: "load_keys"; readonly total: number; readonly successes: number; readonly failures: number }

/** Why a restore could not start or could not finish. Carries no key material. */
export class RestoreError extends Data.TaggedError("RestoreError")<{
  readonly reason:
    /** No backup decryption key is cached in the store. */
    | "NoDecryptionKey"
    /** The server has no (such) backup version. */
    | "BackupVersionNotFound"
    /** The server's public key is not the one of the cached key (or of the passphrase). */
    | "DecryptionKeyDoesNotMatch"
    /** The backup's algorithm is not `m.megolm_backup.v1.curve25519-aes-sha2`, or its auth_data does not parse. */
    | "UnsupportedAlgorithm"
    /** `restoreKeyBackupWithPassphrase` on a backup whose key was not derived from a passphrase. */
    | "NotPassphraseBackup"
    /** The homeserver failed (connection reset, 5xx after retries, ...): the run is resumable. */
    | "HomeserverFailure"
    /** The store (or the restore's sink) failed: the run is resumable. */
    | "StoreFailure"
    /** The caller's AbortSignal fired: the run is resumable. */
    | "Aborted"
  readonly version?: string
  readonly cause?: HomeserverApiError | StorageError | RoomKeySinkError
  readonly message: string
}> {}
