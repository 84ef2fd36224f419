/**
 * Exponential backoff as one Effect `Schedule`, for the upload loop and the adapters' retries (PROTOCOL.md §8.2):
 * `base`, `base × factor`, `base × factor²`, … capped at `max`, forever.
 */
import { Duration, Effect, Ref, Schedule } from "effect"

/** Where the backoff starts, its cap and its growth per failure. */
export interface BackoffOptions {
  readonly base: Duration.DurationInput
  readonly max: Duration.DurationInput
  /** Multiplier per consecutive failure (default 2). */
  readonly factor?: number
}

/** PROTOCOL.md §8.2 (matrix-js-sdk): 1 s, doubling, at most 16 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { base: Duration.seconds(1), max: Duration.seconds(16), factor: 2 }

/** The backoff schedule; each recurrence's delay is also its output, so callers can report it. */
export const exponential = (options: BackoffOptions = DEFAULT_BACKOFF): Schedule.Schedule<Duration.Duration> => {
  const max = Duration.decode(options.max)
  return Schedule.exponential(options.base, options.factor ?? 2).pipe(
    // Past about 2^1024 the uncapped delay is infinite; the cap still applies.
    Schedule.modifyDelay((_, delay) => Duration.min(delay, max)),
    Schedule.delays,
  )
}

/** A backoff stepped by hand, for loops that must announce a wait before taking it. */
export interface BackoffStepper {
  /** The delay before the next try (the caller sleeps); each call is one more consecutive failure. */
  readonly next: Effect.Effect<Duration.Duration>
  /** Starts over at `base`, after a success. */
  readonly reset: Effect.Effect<void>
}

/** Steps `exponential(options)` without sleeping. */
export const stepper = (options: BackoffOptions = DEFAULT_BACKOFF): Effect.Effect<BackoffStepper> => {
  const schedule = exponential(options)
  return Effect.map(Ref.make<unknown>(schedule.initial), (state) => ({
    // The schedule never ends and its delays are relative, so a fixed `now` gives the same delays as the clock.
    next: Effect.flatMap(Ref.get(state), (current) =>
      Effect.flatMap(schedule.step(0, undefined, current), ([following, delay]) => Effect.as(Ref.set(state, following), delay)),
    ),
    reset: Ref.set(state, schedule.initial),
  }))
}
