/**
 * `waitForBackupSteadyState`: succeeds once no key is pending for the active version; fails at once with a typed
 * reason when uploads are off, and with `Timeout` (and the count still pending) rather than hanging.
 */
import { Duration, Effect, Either, Option, Stream } from "effect"
import { BackupStore } from "../services/BackupStore.js"
import type { Activation } from "./Activation.js"
import type { BackupState } from "./BackupState.js"
import { SteadyStateError } from "./EngineError.js"
import { BackupVersion } from "../schema/Ids.js"
import type { SteadyStateOptions } from "./KeyBackupEngine.js"

type Verdict = Either.Either<boolean, SteadyStateError>

/** The version a version error took away during this wait, with what the server named as current. */
interface Lost {
  readonly version: string
  readonly currentVersion: string | undefined
}

const refusal = (state: BackupState): SteadyStateError | undefined => {
  if (state._tag !== "Disabled") return undefined
  // Disabled by a version error: the engine is re-checking and the next state decides.
  if (state.reason === "WrongBackupVersion" || state.reason === "BackupNotFound") return undefined
  const reason = state.reason === "NoBackup" ? "NoBackup" : state.reason === "NotTrusted" ? "NotTrusted" : "BackupDisabled"
  return new SteadyStateError({ reason, message: `Key backup is disabled (${state.reason})` })
}

/** What the store says about the keys when a version went away (each count when it could be read). */
interface LossCounts {
  /** Keys not on the lost version. */
  readonly pending?: number
  readonly total?: number
  /** Keys not on the version the server now calls current. */
  readonly notInCurrent?: number
}

/**
 * Replaced, in words: the keys on the lost version only, the ones never sent there, and how many the current backup
 * lacks (the number `status` shows). A key is recorded as backed up to one version, so none of the first is in it.
 */
const replacedTail = (lost: string, counts: LossCounts): string => {
  const { pending, total, notInCurrent } = counts
  const split =
    pending === undefined
      ? ""
      : total === undefined || total === pending
        ? `; ${pending} keys were not uploaded and are still waiting on this device`
        : `; ${total - pending} keys were backed up to version ${lost} only and ${pending} were not uploaded`
  return notInCurrent === undefined ? split : `${split}; ${notInCurrent} keys on this device are not in the current backup`
}

/** The version that replaced the lost one, if the server names one (none when it says there is no backup). */
const replacementOf = (lost: Lost, state: BackupState): string | undefined => {
  if (state._tag === "Disabled" && state.reason === "NoBackup") return undefined
  return state._tag === "Disabled" && state.version !== undefined && state.version !== lost.version ? state.version : lost.currentVersion
}

/**
 * A refusal after the backup in use went away. Replaced: the keys not on the old version are still waiting here, and
 * those on it are in no backup that is current. Deleted: its copies went with it, so every key is backed up nowhere.
 */
const afterLoss = (lost: Lost, state: BackupState, counts: LossCounts): SteadyStateError => {
  const named = replacementOf(lost, state)
  const replaced = named !== undefined
  const remaining = replaced ? counts.pending : counts.total
  const tail = replaced ? replacedTail(lost.version, counts) : remaining === undefined ? "" : `; ${remaining} keys are backed up nowhere`
  return new SteadyStateError({
    reason: replaced ? "VersionReplaced" : "VersionDeleted",
    version: lost.version,
    ...(replaced ? { currentVersion: named } : {}),
    ...(remaining === undefined ? {} : { remaining }),
    ...(counts.total === undefined ? {} : { total: counts.total }),
    ...(replaced && counts.notInCurrent !== undefined ? { notInCurrentBackup: counts.notInCurrent } : {}),
    message: `Backup version ${lost.version} was ${replaced ? `replaced on the server by version ${named}` : "deleted on the server"}${tail}`,
  })
}

/** The server kept refusing uploads to a version it still calls current. */
const rejected = (state: BackupState & { readonly _tag: "Error" }, remaining: number | undefined): SteadyStateError => {
  const answer = [state.status === undefined ? undefined : `HTTP ${state.status}`, state.errcode, state.serverMessage].filter((part) => part !== undefined)
  return new SteadyStateError({
    reason: "Rejected",
    ...(state.version === undefined ? {} : { version: state.version }),
    ...(state.errcode === undefined ? {} : { errcode: state.errcode }),
    ...(state.status === undefined ? {} : { status: state.status }),
    ...(state.serverMessage === undefined ? {} : { serverMessage: state.serverMessage }),
    ...(remaining === undefined ? {} : { remaining }),
    message: `The homeserver keeps refusing uploads to backup version ${state.version ?? "?"} (${answer.join(" ")})`,
  })
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

    const pendingFor = (version: string) => Effect.map(Effect.option(store.countPending(BackupVersion.make(version))), Option.getOrUndefined)
    /** `current`: the version now named as current, if any (its pending count is what it lacks of this device's keys). */
    const countsFor = (lost: Lost, current: string | undefined): Effect.Effect<LossCounts> =>
      Effect.map(
        Effect.all([
          pendingFor(lost.version),
          Effect.map(Effect.option(store.countTotal()), Option.getOrUndefined),
          current === undefined ? Effect.succeed(undefined) : pendingFor(current),
        ]),
        ([pending, total, notInCurrent]) => ({
          ...(pending === undefined ? {} : { pending }),
          ...(total === undefined ? {} : { total }),
          ...(notInCurrent === undefined ? {} : { notInCurrent }),
        }),
      )
    const lossOf = (lost: Lost, state: BackupState) =>
      Effect.map(countsFor(lost, replacementOf(lost, state)), (counts) => afterLoss(lost, state, counts))

    /** True when done, false to keep waiting, Left to give up. `memory` carries a version lost during this wait. */
    const judge = (state: BackupState, memory: { lost: Lost | undefined }): Effect.Effect<Verdict> =>
      Effect.gen(function* () {
        if (state._tag === "Disabled" && (state.reason === "WrongBackupVersion" || state.reason === "BackupNotFound") && state.version !== undefined) {
          memory.lost = { version: state.version, currentVersion: state.currentVersion }
        }
        // Uploads moved to another version: the loss is dealt with, later refusals are about that version.
        if ((state._tag === "Enabled" || state._tag === "Uploading") && state.version !== memory.lost?.version) memory.lost = undefined
        if (state._tag === "Error" && state.reason === "UploadRejected" && state.version !== undefined) {
          return Either.left(rejected(state, yield* pendingFor(state.version)))
        }
        const refused = refusal(state)
        const lost = memory.lost
        if (refused !== undefined) return Either.left(lost === undefined ? refused : yield* lossOf(lost, state))
        if (state._tag === "Checking" || state._tag === "Disabled") return Either.right(false)
        const current = yield* activation.current
        if (Option.isNone(current)) {
          // A check in flight (e.g. the one at start-up) decides; its end changes the state.
          if (yield* isChecking) return Either.right(false)
          if (lost !== undefined) return Either.left(yield* lossOf(lost, state))
          // Unchecked, or the check failed with uploads off: nothing will change on its own.
          return Either.left(new SteadyStateError({ reason: "Unknown", message: "Key backup state is unknown (not checked, or the check failed)" }))
        }
        const pending = yield* Effect.either(store.countPending(current.value.version))
        // Done only once the loop says so (`Enabled`): it confirms an accepted run's version still exists first.
        return Either.right(state._tag === "Enabled" && Either.isRight(pending) && pending.right === 0)
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
      const memory: { lost: Lost | undefined } = { lost: undefined }
      const waitLoop = activation.state.changes.pipe(
        Stream.mapEffect((state) => judge(state, memory)),
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
