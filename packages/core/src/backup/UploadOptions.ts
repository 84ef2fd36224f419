/**
 * Tuning of the upload loop (PROTOCOL.md §8.2). Defaults follow matrix-js-sdk: 100 keys per request, a random
 * 0–10 s start delay, retry_after_ms on 429, exponential backoff 1→16 s on other failures.
 */
import { Duration } from "effect"
import type { BackoffOptions } from "../retry/Backoff.js"

/** Options of the engine's upload loop and steady-state wait. */
export interface UploadOptions {
  /** Keys per `PUT /room_keys/keys` (default 100, rust-sdk's BACKUP_BATCH_SIZE). */
  readonly batchSize?: number
  /** Upper bound of the random wait before the first request of a run (default 10 s; tests use 0). */
  readonly maxStartJitter?: Duration.DurationInput
  /** Pause between successful batches (default 0; matrix-rust-sdk uses 100 ms). */
  readonly batchDelay?: Duration.DurationInput
  /** First backoff after a failure that is not a 429 (default 1 s), doubled per consecutive failure... */
  readonly backoffBase?: Duration.DurationInput
  /** ...up to this (default 16 s). */
  readonly backoffMax?: Duration.DurationInput
  /** Wait on a 429 without `retry_after_ms` (default 5 s). */
  readonly rateLimitDefault?: Duration.DurationInput
  /** Default timeout of `waitForBackupSteadyState` (default 10 min). */
  readonly steadyStateTimeout?: Duration.DurationInput
}

/** Options with defaults filled in. */
export interface UploadSettings {
  readonly batchSize: number
  readonly maxStartJitter: Duration.Duration
  readonly batchDelay: Duration.Duration
  readonly backoffBase: Duration.Duration
  readonly backoffMax: Duration.Duration
  readonly rateLimitDefault: Duration.Duration
  readonly steadyStateTimeout: Duration.Duration
}

/** matrix-js-sdk / matrix-rust-sdk batch size. */
export const DEFAULT_BATCH_SIZE = 100

/** Fills defaults; a batch size below 1 becomes 1. */
export const resolveUploadOptions = (options: UploadOptions = {}): UploadSettings => ({
  batchSize: Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE)),
  maxStartJitter: Duration.decode(options.maxStartJitter ?? Duration.seconds(10)),
  batchDelay: Duration.decode(options.batchDelay ?? Duration.zero),
  backoffBase: Duration.decode(options.backoffBase ?? Duration.seconds(1)),
  backoffMax: Duration.decode(options.backoffMax ?? Duration.seconds(16)),
  rateLimitDefault: Duration.decode(options.rateLimitDefault ?? Duration.seconds(5)),
  steadyStateTimeout: Duration.decode(options.steadyStateTimeout ?? Duration.minutes(10)),
})

/** The loop's backoff: `backoffBase` doubling up to `backoffMax` (1, 2, 4, 8, 16, 16 s with the defaults). */
export const uploadBackoff = (settings: UploadSettings): BackoffOptions => ({
  base: settings.backoffBase,
  max: settings.backoffMax,
  factor: 2,
})
