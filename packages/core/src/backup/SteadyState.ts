/**
 * `waitForBackupSteadyState`: succeeds once no key is pending for the active version; fails at once with a typed
 * reason when uploads are off, and with `Timeout` (and the count still pending) rather than hanging.
 */
import { Duration, Effect, Either, Option, Stream } from "effect"
import { BackupStore } from "../services/BackupStore.js"
import type { Activation } from "./Activation.js"
import type { BackupState } from "./BackupState.js"
import { SteadyStateError } from "./EngineError.js"
import type { SteadyStateOptions } from "./KeyBackupEngine.js"

type Verdict = Either.Either<boolean, SteadyStateError>

const refusal = (state: BackupState): SteadyStateError | undefined => {
  if (state._tag !== "Disabled") return undefined
  // Disabled by a version error: the engine is re-checking and the next state decides.
  if (state.reason === "WrongBackupVersion" || state.reason === "BackupNotFound") return undefined
  const reason = state.reason === "NoBackup" ? "NoBackup" : state.reason === "NotTrusted" ? "NotTrusted" : "BackupDisabled"
  return new SteadyStateError({ reason, message: `Key backup is disabled (${state.reason})` })
}

/** Builds the wait over the activation holder; `wake` nudges the upload loop. */
export const makeSteadyState = (
  activation: Activation,
  defaultTimeout: Duration.Duration,
  wake: Effect.Effect<void>,
  isChecking: Effect.Effect<boolean>,
) =>
  Effect.gen(function* () {
    const store = yield* BackupStore

    /** True when done, false to keep waiting, Left to give up. */
    const judge = (state: BackupState): Effect.Effect<Verdict> =>
      Effect.gen(function* () {
        const refused = refusal(state)
        if (refused !== undefined) return Either.left(refused)
        if (state._tag === "Checking" || state._tag === "Disabled") return Either.right(false)
        const current = yield* activation.current
        if (Option.isNone(current)) {
          // A check in flight (e.g. the one at start-up) decides; its end changes the state.
          if (yield* isChecking) return Either.right(false)
          // Unchecked, or the check failed with uploads off: nothing will change on its own.
          return Either.left(new SteadyStateError({ reason: "Unknown", message: "Key backup state is unknown (not checked, or the check failed)" }))
        }
        const pending = yield* Effect.either(store.countPending(current.value.version))
        return Either.right(Either.isRight(pending) && pending.right === 0)
      })

    const timedOut = Effect.flatMap(activation.current, (current) =>
      Effect.gen(function* () {
        const remaining = Option.isNone(current)
          ? undefined
          : Option.getOrUndefined(yield* Effect.option(store.countPending(current.value.version)))
        return yield* Effect.fail(
          new SteadyStateError({
            reason: "Timeout",
            ...(remaining === undefined ? {} : { remaining }),
            message: `Key backup did not reach a steady state in time${remaining === undefined ? "" : ` (${remaining} keys pending)`}`,
          }),
        )
      }),
    )

    return (options: SteadyStateOptions = {}): Effect.Effect<void, SteadyStateError> => {
      const timeout = options.timeoutMs === undefined ? defaultTimeout : Duration.millis(Math.max(0, options.timeoutMs))
      const waitLoop = activation.state.changes.pipe(
        Stream.mapEffect(judge),
        Stream.filter((verdict) => Either.isLeft(verdict) || verdict.right),
        Stream.runHead,
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new SteadyStateError({ reason: "BackupDisabled", message: "Key backup engine stopped" })),
            onSome: (verdict) => (Either.isLeft(verdict) ? Effect.fail(verdict.left) : Effect.void),
          }),
        ),
      )
      return Effect.zipRight(wake, waitLoop).pipe(
        Effect.timeoutOption(timeout),
        Effect.flatMap(Option.match({ onNone: () => timedOut, onSome: () => Effect.void })),
        Effect.withSpan("KeyBackupEngine.waitForBackupSteadyState"),
      )
    }
  })
