/**
 * Restore into the device's store through core's KeyBackupRestore: streamed, batch-decrypted, resumable per room,
 * every failed key counted by reason (PROTOCOL.md §8.3, DESIGN.md §3).
 */
import { KeyBackupRestore } from "@matrix-backup/core"
import { Effect } from "effect"
import { backupDeletedError, toCliError } from "../CliError.js"
import type { Progress } from "../Progress.js"

/** The outcome of a restore, as the command reports it. */
export interface RestoreResult {
  readonly total: number
  readonly imported: number
  /** Keys of rooms an earlier, interrupted run had already restored. */
  readonly skipped: number
  /** Only the reasons that occurred. */
  readonly failures: Record<string, number>
  readonly seconds: number
  readonly keysPerSecond: number
}

/** Options of a restore. */
export interface RestoreOptions {
  readonly rooms?: ReadonlyArray<string>
  /** Batches decrypted at once. */
  readonly concurrency?: number
}

/** Rounds durations for display and JSON. */
export const round = (seconds: number): number => Math.round(seconds * 1000) / 1000

/** Restores the backup whose key this device holds. */
export const restore = (progress: Progress, options: RestoreOptions = {}) =>
  Effect.gen(function* () {
    const service = yield* KeyBackupRestore.KeyBackupRestore
    const started = performance.now()
    // Keys of this backup on the device so far: a version deleted between two rooms leaves the first rooms' keys.
    let stored = 0
    let done = 0
    // The total is the server's count of the whole backup: unknown for chosen rooms, or when the count says 0 (Palpo's
    // stays as it was when the version was made); then the line counts the keys so far until the end.
    const rooms = options.rooms === undefined || options.rooms.length === 0 ? undefined : options.rooms
    let counted: boolean | undefined
    const run = {
      ...(rooms === undefined ? {} : { rooms }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      onProgress: (p: KeyBackupRestore.RestoreEvent) => {
        if (p.stage !== "load_keys") return
        counted ??= rooms === undefined && p.total > 0
        stored = p.successes
        done = p.successes + p.failures
        progress.set(done, counted ? p.total : undefined)
      },
    }
    const result = yield* service.restoreKeyBackup(run).pipe(
      // The line shows where the restore stopped before the failure is printed (without a terminal, too).
      Effect.tapError(() => progress.finish),
      Effect.mapError((error) => {
        const failure = toCliError(error)
        return failure.code === "BackupDeleted" && stored > 0 && error.version !== undefined ? backupDeletedError(error.version, "restore", stored) : failure
      }),
    )
    yield* progress.update(done, result.total)
    yield* progress.finish
    const seconds = (performance.now() - started) / 1000
    const failures = Object.fromEntries(Object.entries(result.failures).filter(([, n]) => n > 0))
    return {
      total: result.total,
      imported: result.imported,
      skipped: result.skipped,
      failures,
      seconds: round(seconds),
      keysPerSecond: Math.round(result.imported / Math.max(seconds, 1e-6)),
    } satisfies RestoreResult
  })
