/**
 * Bounded retries: 429 waits what the server asks, 5xx and network failures back off exponentially
 * (core's `Backoff` schedule) with jitter, everything else fails at once (PROTOCOL.md §8.2).
 */
import { HomeserverError } from "@matrix-backup/core"
import { Backoff } from "@matrix-backup/core/adapter"
import { Duration, Effect, Option, Random } from "effect"
import type { RetryPolicy } from "./Config.js"

/** The backoff part of a policy, for core's schedule. */
export const backoffOf = (policy: RetryPolicy): Backoff.BackoffOptions => ({
  base: policy.baseDelay,
  max: policy.maxDelay,
  factor: policy.factor,
})

/** "Equal jitter": a point in [full/2, full] picked by `random` in [0, 1). */
export const equalJitter = (full: Duration.Duration, random: number): Duration.Duration => {
  const millis = Duration.toMillis(full)
  return Duration.millis(Math.round(millis / 2 + (random * millis) / 2))
}

/** The waits of one request's retries. */
export interface Retries {
  /** How long to wait before retrying after `error`, or None when it must not be retried. */
  readonly delayFor: (error: HomeserverError.HomeserverApiError) => Effect.Effect<Option.Option<Duration.Duration>>
}

/** Retries for one request: the backoff advances on every retry, whatever caused it, as the attempt count does. */
export const retries = (policy: RetryPolicy): Effect.Effect<Retries> =>
  Effect.map(Backoff.stepper(backoffOf(policy)), (backoff) => ({
    delayFor: (error) => {
      if (error._tag === "RateLimited" && error.retryAfterMs !== undefined) {
        const wait = Duration.millis(error.retryAfterMs)
        return Duration.greaterThan(wait, policy.maxRateLimitWait) ? Effect.succeedNone : Effect.as(backoff.next, Option.some(wait))
      }
      if (error._tag === "RateLimited" || HomeserverError.isTransient(error)) {
        return Effect.zipWith(backoff.next, Random.next, (full, random) => Option.some(equalJitter(full, random)))
      }
      return Effect.succeedNone
    },
  }))

/** Runs `effect` up to `policy.maxAttempts` times, waiting between tries as `Retries.delayFor` says. */
export const withRetry = <A>(
  policy: RetryPolicy,
  endpoint: string,
  effect: Effect.Effect<A, HomeserverError.HomeserverApiError>,
): Effect.Effect<A, HomeserverError.HomeserverApiError> =>
  Effect.flatMap(retries(policy), ({ delayFor }) => {
    const loop = (attempt: number): Effect.Effect<A, HomeserverError.HomeserverApiError> =>
      Effect.catchAll(effect, (error) =>
        attempt >= policy.maxAttempts
          ? Effect.fail(error)
          : Effect.flatMap(delayFor(error), (delay) =>
              Option.match(delay, {
                onNone: () => Effect.fail(error),
                onSome: (wait) =>
                  Effect.logDebug(`${endpoint}: ${error._tag}, retry ${attempt + 1} in ${Duration.format(wait)}`).pipe(
                    Effect.zipRight(Effect.sleep(wait)),
                    Effect.zipRight(loop(attempt + 1)),
                  ),
              }),
            ),
      )
    return loop(1)
  })
