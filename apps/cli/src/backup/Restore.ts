/**
 * Restore into the device's store: decrypted batches are upserted as "backed up to V" (never re-uploaded),
 * with a checkpoint of every room completed, so an interrupted restore resumes where it stopped (DESIGN.md §3).
 */
import { BackupStore } from "@matrix-backup/core"
import { Effect, Either, Stream } from "effect"
import { toCliError } from "../CliError.js"
import type { Progress } from "../Progress.js"
import { countFailure, decryptedBatches, type DownloadOptions } from "./Download.js"
import type { Unlocked } from "./Unlock.js"

/** The outcome of a restore. */
export interface RestoreResult {
  /** Keys of the backup seen in this run plus those skipped as already restored. */
  readonly total: number
  readonly imported: number
  /** Keys skipped because an earlier, interrupted run had restored their room. */
  readonly resumed: number
  readonly failures: Record<string, number>
  readonly seconds: number
  readonly keysPerSecond: number
}

/** Restores the unlocked backup (or some rooms of it) into the store, reporting progress. */
export const restore = (unlocked: Unlocked, progress: Progress, options: Omit<DownloadOptions, "skipRooms"> = {}) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const startedAt = performance.now()
    const done = yield* Effect.mapError(store.getRestoreCheckpoint(unlocked.version), toCliError)
    const expected = unlocked.info.count ?? 0
    const failures: Record<string, number> = {}
    let seen = 0
    let imported = 0
    let currentRoom: string | undefined
    const skipRooms = options.rooms === undefined ? done : new Set<string>()
    yield* progress.update(0, expected)
    yield* decryptedBatches(unlocked, { ...options, skipRooms }).pipe(
      Stream.runForEach((batch) =>
        Effect.gen(function* () {
          const completed = new Set<string>()
          for (const item of batch) {
            if (currentRoom !== undefined && item.roomId !== currentRoom) completed.add(currentRoom)
            currentRoom = item.roomId
          }
          const keys = batch.flatMap((item) => (Either.isRight(item.result) ? [item.result.right] : []))
          for (const item of batch) if (Either.isLeft(item.result)) countFailure(failures, item.result.left)
          const checkpoint = options.rooms === undefined ? { checkpoint: { version: unlocked.version, rooms: [...completed] } } : {}
          const counts = yield* store.upsertRoomKeys(keys, { backedUpTo: unlocked.version, ...checkpoint }).pipe(
            Effect.map(() => keys.length),
            Effect.catchAll(() => Effect.sync(() => (failures["StoreError"] = (failures["StoreError"] ?? 0) + keys.length, 0))),
          )
          seen += batch.length
          imported += counts
          yield* progress.update(seen, Math.max(expected, seen))
        }),
      ),
    )
    yield* progress.finish
    // A complete run needs no checkpoint: the next restore fetches the whole backup again (new keys included).
    if (options.rooms === undefined) yield* Effect.mapError(store.clearRestoreCheckpoint(unlocked.version), toCliError)
    const seconds = (performance.now() - startedAt) / 1000
    const resumed = Math.max(0, done.size > 0 ? expected - seen : 0)
    return {
      total: seen + resumed,
      imported,
      resumed,
      failures,
      seconds: round(seconds),
      keysPerSecond: Math.round(imported / Math.max(seconds, 1e-6)),
    } satisfies RestoreResult
  })

/** Rounds durations for display and JSON. */
export const round = (seconds: number): number => Math.round(seconds * 1000) / 1000
