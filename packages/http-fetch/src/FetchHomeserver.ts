/**
 * `fetchHomeserver`: the plain factory a Promise user hands to `createKeyBackupClient` (no Effect import needed).
 * It wraps `FetchHomeserverApi.layerFetch` with the device's identity; the token stays inside, redacted.
 */
import { Ids, KeyBackupClient } from "@matrix-backup/core"
import { Redacted } from "effect"
import type { RetryPolicy } from "./Config.js"
import { layerFetch } from "./FetchHomeserverApi.js"

/** Where the homeserver is and which logged-in device talks to it (the values of a matrix-js-sdk login). */
export interface FetchHomeserverOptions {
  /** Homeserver base URL, e.g. `https://matrix.example.org`. */
  readonly baseUrl: string
  readonly accessToken: string
  /** The account, e.g. `@alice:example.org`. */
  readonly userId: string
  /** This device's ID (the login's `device_id`). */
  readonly deviceId: string
  readonly userAgent?: string
  /** Per-request timeout in milliseconds (default 60 000). */
  readonly requestTimeoutMs?: number
  /** Retries: total tries, delays in milliseconds (defaults: 5 tries, 1 s doubling to 16 s, 429 waits up to 60 s). */
  readonly retry?: {
    readonly maxAttempts?: number
    readonly baseDelayMs?: number
    readonly factor?: number
    readonly maxDelayMs?: number
    readonly maxRateLimitWaitMs?: number
  }
}

const retryPolicy = (retry: NonNullable<FetchHomeserverOptions["retry"]>): Partial<RetryPolicy> => ({
  ...(retry.maxAttempts === undefined ? {} : { maxAttempts: retry.maxAttempts }),
  ...(retry.baseDelayMs === undefined ? {} : { baseDelay: retry.baseDelayMs }),
  ...(retry.factor === undefined ? {} : { factor: retry.factor }),
  ...(retry.maxDelayMs === undefined ? {} : { maxDelay: retry.maxDelayMs }),
  ...(retry.maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWait: retry.maxRateLimitWaitMs }),
})

/** The homeserver over `fetch` (Node 18+, browsers), for `createKeyBackupClient({ homeserver })`. */
export const fetchHomeserver = (options: FetchHomeserverOptions): KeyBackupClient.HomeserverConnection =>
  KeyBackupClient.homeserverConnection(
    options,
    layerFetch({
      baseUrl: options.baseUrl,
      accessToken: Redacted.make(options.accessToken),
      userId: Ids.UserId.make(options.userId),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
      ...(options.retry === undefined ? {} : { retry: retryPolicy(options.retry) }),
    }),
  )
