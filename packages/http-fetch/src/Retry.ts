/**
 * Bounded retries: 429 waits what the server asks, 5xx and network failures back off exponentially
 * with jitter, everything else fails at once (PROTOCOL.md §8.2).
 */
import { HomeserverError } from "@matrix-backup/core"
import { Duration, Effect, Option, Random } from "effect"
import type { RetryPolicy } from "./Config.js"

/** Backoff before try `attempt + 1` (attempt ≥ 1): `base × factor^(attempt−1)` capped, then "equal jitter". */
export const backoff = (policy: RetryPolicy, attempt: number, random: number): Duration.Duration => {
  const base = Duration.toMillis(policy.baseDelay)
  const cap = Duration.toMillis(policy.maxDelay)
  const full = Math.min(cap, base * Math.pow(policy.factor, attempt - 1))
  return Duration.millis(Math.round(full / 2 + (random * full) / 2))
}

/** How long to wait before retrying after `error`, or None when it must not be retried. */
export const delayFor = (
  policy: RetryPolicy,
  error: HomeserverError.HomeserverApiError,
  attempt: number,
): Effect.Effect<Option.Option<Duration.Duration>> => {
  if (error._tag === "RateLimited" && error.retryAfterMs !== undefined) {
    const wait = Duration.millis(error.retryAfterMs)
    return Effect.succeed(Duration.greaterThan(wait, policy.maxRateLimitWait) ? Option.none() : Option.some(wait))
  }
  if (error._tag === "RateLimited" || HomeserverError.isTransient(error)) {
    return Effect.map(Random.next, (random) => Option.some(backoff(policy, attempt, random)))
  }
  return Effect.succeed(Option.none())
}

/** Runs `effect` up to `policy.maxAttempts` times, waiting between tries as `delayFor` says. */
export const withRetry = <A>(
  policy: RetryPolicy,
  endpoint: string,
  effect: Effect.Effect<A, HomeserverError.HomeserverApiError>,
): Effect.Effect<A, HomeserverError.HomeserverApiError> => {
  const loop = (attempt: number): Effect.Effect<A, HomeserverError.HomeserverApiError> =>
    Effect.catchAll(effect, (error) =>
      attempt >= policy.maxAttempts
        ? Effect.fail(error)
        : Effect.flatMap(delayFor(policy, error, attempt), (delay) =>
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
}
