/**
 * The upload loop (PROTOCOL.md §8.2): one worker fiber, woken by new keys or an enable. Each run waits a random
 * start delay, then uploads batches until nothing is pending for its version. A key leaves "pending" only after
 * the server accepted it (`markBackedUp` with the revisions read), so a crash or fault never loses one.
 */
import { Duration, Effect, Either, Fiber, Option, Queue, Ref } from "effect"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { CryptoBackend } from "../services/CryptoBackend.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import type { Activation, ActiveBackup } from "./Activation.js"
import { BackupState } from "./BackupState.js"
import { matrixErrcode } from "./EngineError.js"
import { encryptBatch, type UploadBatch } from "./UploadBatch.js"
import type { RoomKeyRef } from "../store/Encoded.js"
import { backoffDelay, type UploadSettings } from "./UploadOptions.js"

/** How a run ended: done, or stopped by a version error the engine must act on. */
export type RunOutcome =
  | { readonly _tag: "Done" }
  | { readonly _tag: "VersionError"; readonly error: HomeserverApiError & { readonly _tag: "WrongBackupVersion" | "BackupNotFound" } }

const done: RunOutcome = { _tag: "Done" }
const NOTHING: ReadonlySet<string> = new Set()
/** Identity of a stored copy (room, session, revision). */
const refId = (ref: RoomKeyRef): string => `${ref.revision}\u0000${ref.roomId}\u0000${ref.sessionId}`

/** A uniformly random duration in [0, max], from the Entropy port. */
const jitter = (entropy: Entropy["Type"], max: Duration.Duration) =>
  Duration.toMillis(max) <= 0
    ? Effect.succeed(Duration.zero)
    : Effect.map(entropy.randomBytes(4), (bytes) => {
        const unit = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) / 0x1_0000_0000
        return Duration.millis(Math.floor(unit * Duration.toMillis(max)))
      })

/** Builds the loop; `onVersionError` is called (outside the run) when the server says the version is gone. */
export const makeUploadLoop = (
  settings: UploadSettings,
  activation: Activation,
  onVersionError: (backup: ActiveBackup, outcome: RunOutcome & { readonly _tag: "VersionError" }) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi
    const store = yield* BackupStore
    const crypto = yield* CryptoBackend
    const entropy = yield* Entropy
    const events = yield* BackupEvents
    const signal = yield* Queue.sliding<void>(1)
    const running = yield* Ref.make(Option.none<Fiber.RuntimeFiber<RunOutcome>>())

    const remaining = (n: number) => events.publish({ name: CryptoEvent.KeyBackupSessionsRemaining, remaining: n })

    /** Sleeps after a failure, with the state saying why and for how long. */
    const pause = (backup: ActiveBackup, state: BackupState, delay: Duration.Duration) =>
      Effect.zipRight(activation.setStateFor(backup.epoch, state), Effect.sleep(delay))

    const onFailure = (backup: ActiveBackup, error: HomeserverApiError, failures: number) => {
      const errcode = matrixErrcode(error)
      const code = errcode === undefined ? {} : { errcode }
      if (error._tag === "RateLimited") {
        const wait = error.retryAfterMs === undefined ? settings.rateLimitDefault : Duration.millis(error.retryAfterMs)
        const retryInMs = Duration.toMillis(wait)
        return pause(backup, BackupState.Error({ reason: "RateLimited", version: backup.version, ...code, retryInMs }), wait)
      }
      const delay = backoffDelay(settings, failures)
      const state = BackupState.Error({ reason: "UploadFailed", version: backup.version, ...code, retryInMs: Duration.toMillis(delay) })
      return pause(backup, state, delay)
    }

    /** Reads up to `size` pending keys not in `exclude` (a batch in flight) and encrypts them; None when none are left. */
    const prepare = (backup: ActiveBackup, size: number, exclude: ReadonlySet<string>) =>
      Effect.flatMap(store.pendingRoomKeys(backup.version, size + exclude.size), (pending) => {
        const keys = pending.filter((key) => !exclude.has(refId(key))).slice(0, size)
        return keys.length === 0 ? Effect.succeedNone : Effect.asSome(encryptBatch(crypto, backup.publicKey, keys))
      })

    /** After the server accepted `batch`: mark it (revision-checked) and report the exact count still pending. */
    const accepted = (backup: ActiveBackup, batch: UploadBatch) =>
      Effect.gen(function* () {
        const marked = yield* Effect.either(Effect.zipRight(store.markBackedUp(backup.version, batch.refs), store.countPending(backup.version)))
        // If marking fails the keys stay pending and are sent again: the server keeps one copy per session.
        if (Either.isLeft(marked)) return
        yield* activation.setStateFor(backup.epoch, BackupState.Uploading({ version: backup.version, remaining: marked.right }))
        yield* remaining(marked.right)
      })

    /**
     * One run: batches until nothing is pending. The next batch is read and encrypted while the current one is on
     * the wire; it excludes the keys in flight, and a key replaced meanwhile fails the revision check when marked.
     */
    const run = (backup: ActiveBackup): Effect.Effect<RunOutcome> =>
      Effect.gen(function* () {
        yield* Effect.sleep(yield* jitter(entropy, settings.maxStartJitter))
        let failures = 0
        let batchSize = settings.batchSize
        let next: UploadBatch | undefined
        while (yield* activation.isCurrent(backup.epoch)) {
          const prepared = next === undefined ? yield* Effect.either(prepare(backup, batchSize, NOTHING)) : Either.right(Option.some(next))
          next = undefined
          if (Either.isLeft(prepared)) {
            failures += 1
            const delay = backoffDelay(settings, failures)
            yield* pause(backup, BackupState.Error({ reason: "Storage", version: backup.version, retryInMs: Duration.toMillis(delay) }), delay)
            continue
          }
          if (Option.isNone(prepared.right)) {
            yield* activation.setStateFor(backup.epoch, BackupState.Enabled({ version: backup.version }))
            yield* remaining(0)
            return done
          }
          const batch = prepared.right.value
          const inFlight = new Set(batch.refs.map(refId))
          const [sent, following] = yield* Effect.all(
            [Effect.either(api.putRoomKeys(backup.version, batch.request)), Effect.option(prepare(backup, batchSize, inFlight))],
            { concurrency: 2 },
          )
          if (Either.isLeft(sent)) {
            const error = sent.left
            if (error._tag === "WrongBackupVersion" || error._tag === "BackupNotFound") return { _tag: "VersionError" as const, error }
            // A body too large for the server: halve the batch rather than retrying the same one forever.
            if (error._tag === "TooLarge" && batchSize > 1) batchSize = Math.ceil(batchSize / 2)
            failures += 1
            yield* onFailure(backup, error, failures)
            continue
          }
          failures = 0
          yield* accepted(backup, batch)
          next = Option.getOrUndefined(Option.flatten(following))
          if (Duration.toMillis(settings.batchDelay) > 0) yield* Effect.sleep(settings.batchDelay)
        }
        return done
      }).pipe(Effect.withSpan("KeyBackupEngine.uploadRun"))

    const worker = Effect.gen(function* () {
      yield* Queue.take(signal)
      const current = yield* activation.current
      if (Option.isNone(current)) return
      const fiber = yield* Effect.fork(run(current.value))
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
