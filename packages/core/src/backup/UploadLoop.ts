/**
 * The upload loop (PROTOCOL.md §8.2): one worker fiber, woken by new keys or an enable. Each run waits a random
 * start delay, then uploads batches until nothing is pending for its version. A key leaves "pending" only after
 * the server accepted it (`markBackedUp` with the revisions read), so a crash or fault never loses one.
 * The loop owns upload retries (the adapter sends each PUT once). A refusal (non-transient 4xx) or two 5xx in a row
 * make it re-check the version: gone or replaced stops the run as a version error; the same refusal again for a
 * version the server still calls current stops it as `Rejected`, instead of re-sending every 16 s. Accepted uploads
 * are checked too (every 20 s and before "done"): some servers accept keys for a deleted version.
 */
import { Clock, type Context, Duration, Effect, Either, Fiber, Option, Queue, Ref } from "effect"
import type { BackupNotFound, HomeserverApiError } from "../services/HomeserverError.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { CryptoBackend } from "../services/CryptoBackend.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { type BackoffStepper, stepper } from "../retry/Backoff.js"
import type { Activation, ActiveBackup } from "./Activation.js"
import { BackupState } from "./BackupState.js"
import { encryptBatch, type UploadBatch } from "./UploadBatch.js"
import { isRejection, isServerError, sameAnswer, serverAnswer, type ServerAnswer } from "./UploadFailure.js"
import { type AcceptedSinceCheck, recheckVersion, verifyAccepted } from "./VersionRecheck.js"
import type { RoomKeyRef } from "../store/Encoded.js"
import { uploadBackoff, type UploadSettings } from "./UploadOptions.js"

/** How a run ended: done, stopped by a version error the engine must act on, or by a refusal that persists. */
export type RunOutcome =
  | { readonly _tag: "Done" }
  | { readonly _tag: "VersionError"; readonly error: HomeserverApiError & { readonly _tag: "WrongBackupVersion" | "BackupNotFound" } }
  | { readonly _tag: "Rejected"; readonly answer: ServerAnswer }

const done: RunOutcome = { _tag: "Done" }
const versionError = (error: BackupNotFound): RunOutcome => ({ _tag: "VersionError", error })
const NOTHING: ReadonlySet<string> = new Set()
/** Identity of a stored copy (room, session, revision). */
const refId = (ref: RoomKeyRef): string => `${ref.revision}\u0000${ref.roomId}\u0000${ref.sessionId}`

/** What every step of the loop uses: settings, the activation and the ports. */
interface LoopDeps {
  readonly settings: UploadSettings
  readonly activation: Activation
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly store: Context.Tag.Service<BackupStore>
  readonly crypto: Context.Tag.Service<CryptoBackend>
  readonly entropy: Context.Tag.Service<Entropy>
  readonly events: Context.Tag.Service<BackupEvents>
}

/** What one run carries from batch to batch. */
interface RunState {
  batchSize: number
  /** The batch read and encrypted while the previous one was on the wire. */
  next: UploadBatch | undefined
  /** Consecutive failures: reset by an accepted batch. */
  readonly backoff: BackoffStepper
  failures: number
  /** Consecutive 5xx answers. */
  serverErrors: number
  /** A refusal already seen after a re-check found the version unchanged. */
  refusedAfterRecheck: ServerAnswer | undefined
  /** When the version was last seen to exist, and whether batches were accepted since. */
  readonly verified: AcceptedSinceCheck
}

/** A uniformly random duration in [0, max], from the Entropy port. */
const jitter = (entropy: Context.Tag.Service<Entropy>, max: Duration.Duration) =>
  Duration.toMillis(max) <= 0
    ? Effect.succeed(Duration.zero)
    : Effect.map(entropy.randomBytes(4), (bytes) => {
        const unit = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) / 0x1_0000_0000
        return Duration.millis(Math.floor(unit * Duration.toMillis(max)))
      })

const remaining = (deps: LoopDeps, n: number) => deps.events.publish({ name: CryptoEvent.KeyBackupSessionsRemaining, remaining: n })

/** Sleeps after a failure, with the state saying why and for how long. */
const pause = (deps: LoopDeps, backup: ActiveBackup, state: BackupState, delay: Duration.Duration) =>
  Effect.zipRight(deps.activation.setStateFor(backup.epoch, state), Effect.sleep(delay))

/** A failed upload: 429 waits what the server asks (or the default), anything else the backoff's next delay. */
const onUploadFailure = (deps: LoopDeps, backup: ActiveBackup, run: RunState, error: HomeserverApiError) =>
  Effect.gen(function* () {
    run.failures += 1
    const answer = { ...serverAnswer(error), failures: run.failures }
    const delay = yield* run.backoff.next
    if (error._tag === "RateLimited") {
      const wait = error.retryAfterMs === undefined ? deps.settings.rateLimitDefault : Duration.millis(error.retryAfterMs)
      return yield* pause(deps, backup, BackupState.Error({ reason: "RateLimited", version: backup.version, ...answer, retryInMs: Duration.toMillis(wait) }), wait)
    }
    yield* pause(deps, backup, BackupState.Error({ reason: "UploadFailed", version: backup.version, ...answer, retryInMs: Duration.toMillis(delay) }), delay)
  })

/**
 * After a refusal or a second 5xx in a row: is the version still current? An outcome when the run must stop (gone,
 * replaced, or the same refusal twice for a version the server still calls current).
 */
const afterSuspectFailure = (deps: LoopDeps, backup: ActiveBackup, run: RunState, error: HomeserverApiError) =>
  Effect.gen(function* () {
    const found = yield* recheckVersion(deps.api, backup.version)
    if (found._tag === "Gone" || found._tag === "Replaced") return Option.some<RunOutcome>({ _tag: "VersionError", error: found.error })
    if (found._tag === "Unchanged" && isRejection(error)) {
      const answer = serverAnswer(error)
      if (sameAnswer(answer, run.refusedAfterRecheck)) {
        yield* deps.activation.setStateFor(backup.epoch, BackupState.Error({ reason: "UploadRejected", version: backup.version, ...answer, failures: run.failures + 1 }))
        return Option.some<RunOutcome>({ _tag: "Rejected", answer })
      }
      run.refusedAfterRecheck = answer
    }
    return Option.none<RunOutcome>()
  })

/** A failed PUT: version errors stop the run, suspect ones re-check the version, the rest back off and retry. */
const onSendFailure = (deps: LoopDeps, backup: ActiveBackup, run: RunState, error: HomeserverApiError) =>
  Effect.gen(function* () {
    if (error._tag === "WrongBackupVersion" || error._tag === "BackupNotFound") return Option.some<RunOutcome>({ _tag: "VersionError", error })
    // A body too large for the server: halve the batch rather than retrying the same one forever.
    if (error._tag === "TooLarge" && run.batchSize > 1) run.batchSize = Math.ceil(run.batchSize / 2)
    run.serverErrors = isServerError(error) ? run.serverErrors + 1 : 0
    if (isRejection(error) || run.serverErrors >= 2) {
      const outcome = yield* afterSuspectFailure(deps, backup, run, error)
      if (Option.isSome(outcome)) return outcome
      run.serverErrors = 0
    }
    yield* onUploadFailure(deps, backup, run, error)
    return Option.none<RunOutcome>()
  })

/** Reads up to `size` pending keys not in `exclude` (a batch in flight) and encrypts them; None when none are left. */
const prepare = (deps: LoopDeps, backup: ActiveBackup, size: number, exclude: ReadonlySet<string>) =>
  Effect.flatMap(deps.store.pendingRoomKeys(backup.version, size + exclude.size), (pending) => {
    const keys = pending.filter((key) => !exclude.has(refId(key))).slice(0, size)
    return keys.length === 0 ? Effect.succeedNone : Effect.asSome(encryptBatch(deps.crypto, backup.publicKey, keys))
  })

/** After the server accepted `batch`: mark it (revision-checked) and report the exact count still pending. */
const accepted = (deps: LoopDeps, backup: ActiveBackup, batch: UploadBatch) =>
  Effect.gen(function* () {
    const marked = yield* Effect.either(Effect.zipRight(deps.store.markBackedUp(backup.version, batch.refs), deps.store.countPending(backup.version)))
    // If marking fails the keys stay pending and are sent again: the server keeps one copy per session.
    if (Either.isLeft(marked)) return
    yield* deps.activation.setStateFor(backup.epoch, BackupState.Uploading({ version: backup.version, remaining: marked.right }))
    yield* remaining(deps, marked.right)
  })

/**
 * Sends `batch` while the next one is read and encrypted; the next excludes the keys in flight, and a key replaced
 * meanwhile fails the revision check when marked. Returns an outcome only when the run must stop.
 */
const send = (deps: LoopDeps, backup: ActiveBackup, run: RunState, batch: UploadBatch) =>
  Effect.gen(function* () {
    const inFlight = new Set(batch.refs.map(refId))
    const [sent, following] = yield* Effect.all(
      [Effect.either(deps.api.putRoomKeys(backup.version, batch.request)), Effect.option(prepare(deps, backup, run.batchSize, inFlight))],
      { concurrency: 2 },
    )
    if (Either.isLeft(sent)) return yield* onSendFailure(deps, backup, run, sent.left)
    yield* run.backoff.reset
    run.failures = 0
    run.serverErrors = 0
    run.refusedAfterRecheck = undefined
    yield* accepted(deps, backup, batch)
    run.verified.accepted = true
    run.next = Option.getOrUndefined(Option.flatten(following))
    if (Duration.toMillis(deps.settings.batchDelay) > 0) yield* Effect.sleep(deps.settings.batchDelay)
    return Option.map(yield* verifyAccepted(deps.api, backup.version, run.verified, false), versionError)
  })

/** One batch of a run: read (unless already read), then send; `Done` when nothing is pending. */
const step = (deps: LoopDeps, backup: ActiveBackup, run: RunState) =>
  Effect.gen(function* () {
    const prepared = run.next === undefined ? yield* Effect.either(prepare(deps, backup, run.batchSize, NOTHING)) : Either.right(Option.some(run.next))
    run.next = undefined
    if (Either.isLeft(prepared)) {
      const delay = yield* run.backoff.next
      yield* pause(deps, backup, BackupState.Error({ reason: "Storage", version: backup.version, retryInMs: Duration.toMillis(delay) }), delay)
      return Option.none<RunOutcome>()
    }
    if (Option.isSome(prepared.right)) return yield* send(deps, backup, run, prepared.right.value)
    const lost = yield* verifyAccepted(deps.api, backup.version, run.verified, true)
    if (Option.isSome(lost)) return Option.some(versionError(lost.value))
    yield* deps.activation.setStateFor(backup.epoch, BackupState.Enabled({ version: backup.version }))
    yield* remaining(deps, 0)
    return Option.some(done)
  })

/** One run: batches until nothing is pending, the activation changes, or the version is gone. */
const runUploads = (deps: LoopDeps, backup: ActiveBackup): Effect.Effect<RunOutcome> =>
  Effect.gen(function* () {
    yield* Effect.sleep(yield* jitter(deps.entropy, deps.settings.maxStartJitter))
    const run: RunState = {
      batchSize: deps.settings.batchSize,
      next: undefined,
      backoff: yield* stepper(uploadBackoff(deps.settings)),
      failures: 0,
      serverErrors: 0,
      refusedAfterRecheck: undefined,
      verified: { at: yield* Clock.currentTimeMillis, accepted: false },
    }
    while (yield* deps.activation.isCurrent(backup.epoch)) {
      const outcome = yield* step(deps, backup, run)
      if (Option.isSome(outcome)) return outcome.value
    }
    return done
  }).pipe(Effect.withSpan("KeyBackupEngine.uploadRun"))

/** Builds the loop; `onVersionError` is called (outside the run) when the server says the version is gone. */
export const makeUploadLoop = (
  settings: UploadSettings,
  activation: Activation,
  onVersionError: (backup: ActiveBackup, outcome: RunOutcome & { readonly _tag: "VersionError" }) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const deps: LoopDeps = {
      settings,
      activation,
      api: yield* HomeserverApi,
      store: yield* BackupStore,
      crypto: yield* CryptoBackend,
      entropy: yield* Entropy,
      events: yield* BackupEvents,
    }
    const signal = yield* Queue.sliding<void>(1)
    const running = yield* Ref.make(Option.none<Fiber.RuntimeFiber<RunOutcome>>())

    const worker = Effect.gen(function* () {
      yield* Queue.take(signal)
      const current = yield* activation.current
      if (Option.isNone(current)) return
      const fiber = yield* Effect.fork(runUploads(deps, current.value))
      yield* Ref.set(running, Option.some(fiber))
      const exit = yield* Fiber.await(fiber)
      yield* Ref.set(running, Option.none())
      if (exit._tag === "Success" && exit.value._tag === "VersionError") yield* onVersionError(current.value, exit.value)
    })
    yield* Effect.forkScoped(Effect.forever(worker))

    /** Stops a run whose activation is no longer current (its sleeps would otherwise delay the next run). */
    const stopStale = Effect.flatMap(Ref.get(running), (fiber) =>
      Option.match(fiber, { onNone: () => Effect.void, onSome: (f) => Effect.asVoid(Fiber.interruptFork(f)) }),
    )
    yield* activation.onChange(Effect.zipRight(stopStale, Queue.offer(signal, undefined)))

    return { wake: Effect.asVoid(Queue.offer(signal, undefined)) }
  })
