/**
 * `KeyBackupRestore`: js-sdk's `restoreKeyBackup` and `restoreKeyBackupWithPassphrase` as an Effect
 * service, streaming, resumable and with per-key failure reasons (PROTOCOL.md §8.3, DESIGN.md §3).
 */
import { Context, Effect, Layer, Option, Stream } from "effect"
import type { Redacted } from "effect"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { CryptoBackend } from "../services/CryptoBackend.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { fromBackupStore, RoomKeySink } from "../services/RoomKeySink.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult } from "./RestoreError.js"
import { RestoreError } from "./RestoreError.js"
import type { PipelineOptions } from "./RestorePipeline.js"
import { runPipeline } from "./RestorePipeline.js"
import type { RestoreTarget } from "./RestoreTarget.js"
import { deriveFromPassphrase, resolveTarget } from "./RestoreTarget.js"

/** Options of a restore. Batches are at most `batchSize` (default 200) sessions, so progress comes at least that often. */
export interface RestoreOptions extends PipelineOptions {
  /** Called synchronously with each progress update; an exception it throws is ignored. */
  readonly onProgress?: (progress: ImportRoomKeyProgressData) => void
  /** Aborting stops the restore promptly with `RestoreError { reason: "Aborted" }`; it stays resumable. */
  readonly signal?: AbortSignal
  /** Where this run delivers its keys; default the layer's `RoomKeySink` if one is provided, else the BackupStore. */
  readonly sink?: Context.Tag.Service<RoomKeySink>
}

/** One element of `restoreKeyBackupStream`: progress, then the result. */
export type RestoreEvent = ImportRoomKeyProgressData | { readonly stage: "done"; readonly result: KeyBackupRestoreResult }

/** The service. */
export class KeyBackupRestore extends Context.Tag("@matrix-backup/core/KeyBackupRestore")<
  KeyBackupRestore,
  {
    /** Restores the backup version the cached decryption key belongs to. */
    readonly restoreKeyBackup: (options?: RestoreOptions) => Effect.Effect<KeyBackupRestoreResult, RestoreError>
    /** Derives a legacy passphrase key for the latest version, checks and caches it, then restores. */
    readonly restoreKeyBackupWithPassphrase: (
      passphrase: Redacted.Redacted<string>,
      options?: RestoreOptions,
    ) => Effect.Effect<KeyBackupRestoreResult, RestoreError>
    /** The restore as a stream of progress updates ending with the result. */
    readonly restoreKeyBackupStream: (options?: Omit<RestoreOptions, "onProgress">) => Stream.Stream<RestoreEvent, RestoreError>
  }
>() {}

const aborted = () => new RestoreError({ reason: "Aborted", message: "The restore was aborted; run it again to resume" })

/** Races `effect` against `signal`: an abort interrupts it and fails with `Aborted`. */
export const abortable = <A>(signal: AbortSignal | undefined, effect: Effect.Effect<A, RestoreError>): Effect.Effect<A, RestoreError> =>
  signal === undefined
    ? effect
    : Effect.suspend(() =>
        signal.aborted
          ? Effect.fail(aborted())
          : Effect.raceFirst(
              effect,
              Effect.async<never, RestoreError>((resume) => {
                const onAbort = () => resume(Effect.fail(aborted()))
                signal.addEventListener("abort", onAbort, { once: true })
                return Effect.sync(() => signal.removeEventListener("abort", onAbort))
              }),
            ),
      )

/** A progress reporter that ignores exceptions from `onProgress`. */
export const safely = (onProgress: ((progress: ImportRoomKeyProgressData) => void) | undefined) => (progress: ImportRoomKeyProgressData) => {
  try {
    onProgress?.(progress)
  } catch {
    // A throwing progress callback must not break the restore (js-sdk does not guard it either way).
  }
}

/** Builds the service from its ports. One restore runs at a time. */
export const make = Effect.gen(function* () {
  const api = yield* HomeserverApi
  const store = yield* BackupStore
  const backend = yield* CryptoBackend
  const events = yield* BackupEvents
  const sink = Option.getOrElse(yield* Effect.serviceOption(RoomKeySink), () => fromBackupStore(store))
  const lock = yield* Effect.makeSemaphore(1)
  const run = (
    target: Effect.Effect<RestoreTarget, RestoreError>,
    options: RestoreOptions,
    report: (progress: ImportRoomKeyProgressData) => void,
  ) => {
    const deps = { api, sink: options.sink ?? sink, backend }
    return abortable(
      options.signal,
      lock.withPermits(1)(Effect.flatMap(target, (checked) => runPipeline(deps, checked, options, report))),
    ).pipe(Effect.withSpan("KeyBackupRestore.restoreKeyBackup"))
  }
  const fromPassphrase = (passphrase: Redacted.Redacted<string>) =>
    Effect.tap(deriveFromPassphrase(api, store, backend, passphrase), (target) =>
      events.publish({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version: target.version }),
    )
  const service: Context.Tag.Service<KeyBackupRestore> = {
    restoreKeyBackup: (options = {}) => run(resolveTarget(api, store), options, safely(options.onProgress)),
    restoreKeyBackupWithPassphrase: (passphrase, options = {}) => run(fromPassphrase(passphrase), options, safely(options.onProgress)),
    restoreKeyBackupStream: (options = {}) =>
      Stream.asyncScoped<RestoreEvent, RestoreError>((emit) =>
        Effect.forkScoped(
          run(resolveTarget(api, store), options, (progress) => void emit.single(progress)).pipe(
            Effect.matchEffect({
              onFailure: (error) => Effect.promise(() => emit.fail(error)),
              onSuccess: (result) => Effect.promise(() => emit.single({ stage: "done", result })).pipe(Effect.zipRight(Effect.promise(() => emit.end()))),
            }),
          ),
        ),
      "unbounded"),
  }
  return service
})

/** The service over HomeserverApi, BackupStore, CryptoBackend and BackupEvents (and a `RoomKeySink`, if provided). */
export const layer: Layer.Layer<KeyBackupRestore, never, HomeserverApi | BackupStore | CryptoBackend | BackupEvents> =
  Layer.effect(KeyBackupRestore, make)
