/**
 * Backs keys up through core's engine: the server's backup is checked and must be trusted (signed by this device,
 * or matching the decryption key it holds), the keys are added as pending, and the engine's upload loop sends them;
 * progress follows the engine's state, and the command returns once nothing is pending (DESIGN.md §3).
 */
import { BackupStore, KeyBackupEngine, type RoomKey } from "@matrix-backup/core"
import { Effect, Fiber, Option, Stream } from "effect"
import { CliError, noBackupError, toCliError } from "../CliError.js"
import { serverAnswer } from "../Format.js"
import type { Progress } from "../Progress.js"

/** What a backup run did. */
export interface BackedUp {
  readonly version: string
  readonly added: number
  /** Keys this device already held (the same or a better copy). */
  readonly alreadyPresent: number
  readonly uploaded: number
  readonly pending: number
  readonly seconds: number
}

/** The server's backup, enabled for uploads, or why not. */
export const enabledBackup = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const check = yield* engine.checkKeyBackupAndEnable(true)
  if (Option.isNone(check)) return yield* noBackupError()
  const version = yield* engine.getActiveSessionBackupVersion()
  if (Option.isSome(version)) return version.value
  const shown = check.value.backupInfo.version ?? "?"
  const state = yield* engine.state
  if (state._tag === "Disabled" && state.reason === "NotCurrent") {
    return yield* new CliError({
      code: "NoCurrentBackup",
      message:
        `The homeserver reports no current backup, although version ${shown} (whose key this device holds) is still there: ` +
        "its newest version was deleted, and it accepts no uploads to older ones. `matrix-backup restore` can still read it; " +
        "run `matrix-backup create` to make a new backup for these keys",
    })
  }
  return yield* new CliError({
    code: "UntrustedBackup",
    message:
      `This device does not trust backup version ${shown} (it did not create it and does not hold its key); ` +
      "run `matrix-backup restore` with the recovery key first, then import again",
  })
})

/** A failed upload as the progress line shows it: `retry 3 in 4 s (HTTP 500 M_UNKNOWN)`. */
export const retryNote = (state: KeyBackupEngine.BackupState & { readonly _tag: "Error" }): string | undefined => {
  if (state.retryInMs === undefined) return undefined
  const answer = serverAnswer(state.status, state.errcode)
  const seconds = Math.max(1, Math.round(state.retryInMs / 1000))
  return `retry ${state.failures ?? 1} in ${seconds} s${answer === "" ? "" : ` (${answer})`}`
}

/** Adds `keys` and waits until every pending key is on the server. */
export const backUp = (keys: ReadonlyArray<RoomKey.RoomKey>, progress: Progress) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const store = yield* BackupStore.BackupStore
    const version = yield* enabledBackup
    const started = performance.now()
    const counts = yield* Effect.mapError(engine.addRoomKeys(keys), toCliError)
    const pending = yield* Effect.mapError(store.countPending(version), toCliError)
    const added = counts.inserted + counts.replaced
    if (pending === 0) {
      const seconds = (performance.now() - started) / 1000
      return { version, added, alreadyPresent: counts.kept, uploaded: 0, pending: 0, seconds } satisfies BackedUp
    }
    yield* progress.update(0, pending)
    const watcher = yield* engine.stateChanges.pipe(
      Stream.runForEach((state) =>
        state._tag === "Uploading"
          ? Effect.zipRight(progress.note(undefined), progress.update(Math.max(0, pending - state.remaining)))
          : state._tag === "Error"
            ? progress.note(retryNote(state))
            : Effect.void,
      ),
      Effect.fork,
    )
    yield* Effect.mapError(engine.waitForBackupSteadyState(), toCliError)
    yield* Fiber.interrupt(watcher)
    yield* progress.update(pending)
    yield* progress.finish
    const left = yield* Effect.mapError(store.countPending(version), toCliError)
    const seconds = (performance.now() - started) / 1000
    return { version, added, alreadyPresent: counts.kept, uploaded: pending - left, pending: left, seconds } satisfies BackedUp
  })
