/**
 * Configuration of the fetch-based `HomeserverApi`: where, as whom, and how patiently.
 * The access token is `Redacted` so it never reaches logs or error messages.
 */
import type { Ids } from "@matrix-backup/core"
import { Duration } from "effect"
import type { Redacted } from "effect"

/** Retry behaviour. 4xx answers other than 429 are never retried. */
export interface RetryPolicy {
  /** Total tries per request, the first included (default 5). */
  readonly maxAttempts: number
  /** First backoff delay for 5xx and network failures (default 1 s). */
  readonly baseDelay: Duration.DurationInput
  /** Backoff multiplier (default 2). */
  readonly factor: number
  /** Longest backoff delay (default 16 s). */
  readonly maxDelay: Duration.DurationInput
  /** A 429 asking to wait longer than this fails at once with `RateLimited` (default 60 s). */
  readonly maxRateLimitWait: Duration.DurationInput
}

/** Options of `FetchHomeserverApi.layer`. */
export interface FetchHomeserverApiConfig {
  /** Homeserver base URL, e.g. `https://matrix.example.org` (a trailing slash is fine). */
  readonly baseUrl: string
  readonly accessToken: Redacted.Redacted<string>
  /** Owner of the account data read and written. */
  readonly userId: Ids.UserId
  readonly userAgent?: string
  /** Per-request timeout; for streamed downloads, the longest wait for headers or the next chunk (default 60 s). */
  readonly requestTimeout?: Duration.DurationInput
  readonly retry?: Partial<RetryPolicy>
}

/** The policy js-sdk's transport follows (PROTOCOL.md §8.2): 1 s, ×2, capped at 16 s. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelay: Duration.seconds(1),
  factor: 2,
  maxDelay: Duration.seconds(16),
  maxRateLimitWait: Duration.seconds(60),
}

/** js-sdk's per-request timeout. */
export const DEFAULT_REQUEST_TIMEOUT = Duration.seconds(60)

/** Resolved settings. */
export interface Settings {
  readonly clientBase: string
  readonly accessToken: Redacted.Redacted<string>
  readonly userId: Ids.UserId
  readonly userAgent: string | undefined
  readonly requestTimeout: Duration.Duration
  readonly retry: RetryPolicy
}

/** Fills defaults and normalises the base URL to `<base>/_matrix/client/v3`. */
export const resolve = (config: FetchHomeserverApiConfig): Settings => ({
  clientBase: `${config.baseUrl.replace(/\/+$/, "")}/_matrix/client/v3`,
  accessToken: config.accessToken,
  userId: config.userId,
  userAgent: config.userAgent,
  requestTimeout: Duration.decode(config.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT),
  retry: { ...DEFAULT_RETRY, ...config.retry },
})
