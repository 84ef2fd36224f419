/**
 * The restore itself: sessions stream from the server, are decrypted in bounded batches with bounded
 * concurrency, and are handed to a `RoomKeySink` batch by batch with the rooms each completes (the store sink
 * keeps them as a checkpoint in the same transaction; DESIGN.md §3, PROTOCOL.md §8.3, §8.4). Nothing holds the
 * whole backup in memory.
 */
import type { Context } from "effect"
import { Effect, Stream } from "effect"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { HomeserverApi, RoomKeyEntry } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { RoomKeySink, SinkError } from "../services/RoomKeySink.js"
import type { FailedEntry } from "./DecryptEntries.js"
import { backupEntries, type DecryptedChunk, decryptInBatches, DEFAULT_BATCH_SIZE, confirmVersion } from "./DecryptedBackup.js"
import { RestoreCounters } from "./RestoreCounters.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult } from "./RestoreError.js"
import { RestoreError } from "./RestoreError.js"
import type { RestoreTarget } from "./RestoreTarget.js"

export { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY } from "./DecryptedBackup.js"

/** Tuning and scope of one run. */
export interface PipelineOptions {
  /** Restore only these rooms (one `GET /room_keys/keys/{roomId}` each). */
  readonly rooms?: ReadonlyArray<string>
  readonly batchSize?: number
  readonly concurrency?: number
  /** Called synchronously with every entry that fails to decrypt or decode, as its batch is done; exceptions are ignored. */
  readonly onFailure?: (failure: FailedEntry & { readonly version: string }) => void
}

/** The services one run uses. */
export interface PipelineDeps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly sink: Context.Tag.Service<RoomKeySink>
  readonly backend: Context.Tag.Service<CryptoBackend>
}

const homeserverFailure = (version: string) => (cause: HomeserverApiError) =>
  cause._tag === "BackupNotFound"
    ? deleted(version, cause)
    : new RestoreError({ reason: "HomeserverFailure", version, cause, message: "Downloading the backup failed; run the restore again to resume" })

const deleted = (version: string, cause: HomeserverApiError) =>
  new RestoreError({ reason: "BackupVersionNotFound", version, cause, message: `Backup version ${version} was deleted on the server during the restore` })

/**
 * A restore of a version deleted meanwhile reads as deleted, never as a restore of what was read (`confirmVersion`).
 * Any other failure of the check says nothing about the version, and the keys read are stored: it passes.
 */
const checkStillThere = (api: Context.Tag.Service<HomeserverApi>, target: RestoreTarget, seen: number, wholeBackup: boolean) =>
  confirmVersion(api, target.version, { seen, count: target.count, wholeBackup }).pipe(
    Effect.catchAll((error) => (error._tag === "BackupNotFound" ? Effect.fail(deleted(target.version, error)) : Effect.void)),
  )

const storeFailure = (version: string, cause: SinkError) =>
  new RestoreError({ reason: "StoreFailure", version, cause, message: "Importing keys failed; run the restore again to resume" })

const notifier = (version: string, onFailure: PipelineOptions["onFailure"]) => (failures: ReadonlyArray<FailedEntry>) => {
  if (onFailure === undefined) return
  for (const failure of failures) {
    try {
      onFailure({ ...failure, version })
    } catch {
      // A throwing observer must not break the restore.
    }
  }
}

/**
 * Rooms a batch completes. The stream is ordered room by room, so every room of the batch but its last
 * one is complete, and so is the previous batch's last room once this batch starts with another.
 */
export const completedRooms = (previousLast: string | undefined, entries: ReadonlyArray<RoomKeyEntry>): Array<string> => {
  const last = entries[entries.length - 1]?.roomId
  const done = new Set<string>()
  if (previousLast !== undefined) done.add(previousLast)
  for (const entry of entries) done.add(entry.roomId)
  if (last !== undefined) done.delete(last)
  return [...done]
}

/** Runs one restore against a checked target; `report` gets every progress update synchronously. */
export const runPipeline = (
  deps: PipelineDeps,
  target: RestoreTarget,
  options: PipelineOptions,
  report: (progress: ImportRoomKeyProgressData) => void,
): Effect.Effect<KeyBackupRestoreResult, RestoreError> =>
  Effect.gen(function* () {
    const { api, sink, backend } = deps
    const notify = notifier(target.version, options.onFailure)
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE))
    report({ stage: "fetch" })
    const done = yield* Effect.mapError(sink.completedRooms(target.version), (e) => storeFailure(target.version, e))
    // The version's count covers the whole backup; a per-room restore learns its total as it goes.
    const counters = new RestoreCounters(options.rooms === undefined ? target.count : 0, batchSize, report)
    counters.report()
    let previousLast: string | undefined
    const importBatch = ({ entries, decrypted }: DecryptedChunk) => {
      const rooms = completedRooms(previousLast, entries)
      previousLast = entries[entries.length - 1]?.roomId ?? previousLast
      counters.addFailures(decrypted.failures)
      notify(decrypted.failures)
      if (decrypted.keys.length === 0 && rooms.length === 0) return Effect.sync(() => counters.report())
      return sink.importBatch({ version: target.version, keys: decrypted.keys, completedRooms: rooms }).pipe(
        Effect.tapError(() => Effect.sync(() => counters.storeFailed(decrypted.keys.length))),
        Effect.mapError((e) => storeFailure(target.version, e)),
        Effect.tap(() => Effect.sync(() => counters.imported(decrypted.keys.length))),
      )
    }
    // A dropped download ends the stream cleanly so the batches already received are still imported and
    // checkpointed; the failure is raised after them.
    let downloadFailure: RestoreError | undefined
    let seen = 0
    yield* backupEntries(api, target.version, options.rooms).pipe(
      Stream.catchAll((error) => {
        downloadFailure = homeserverFailure(target.version)(error)
        return Stream.empty
      }),
      Stream.filter((entry) => {
        seen += 1
        return counters.admit(!done.has(entry.roomId))
      }),
      decryptInBatches(backend, target.privateKey, { batchSize, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) }),
      Stream.mapEffect(importBatch),
      Stream.runDrain,
    )
    if (downloadFailure !== undefined) return yield* Effect.fail(downloadFailure)
    yield* checkStillThere(api, target, seen, options.rooms === undefined)
    if (options.rooms === undefined) {
      yield* Effect.mapError(sink.restoreFinished(target.version), (e) => storeFailure(target.version, e))
    }
    return counters.finish()
  })
