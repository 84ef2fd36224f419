/**
 * The server backup as a stream of decrypted room keys, in batches: streamed download (memory does not grow
 * with the backup), batch decryption by the CryptoBackend with `workers` batches in flight, and every key that
 * fails counted with its reason instead of stopping the run (PROTOCOL.md §3.5, §3.6, §8.3).
 */
import { CryptoBackend, DecryptEntries, HomeserverApi, Ids, type RoomKey } from "@matrix-backup/core"
import { Chunk, Effect, Either, type Redacted, Schema, Stream } from "effect"
import { CliError, toCliError } from "../CliError.js"
import type { Unlocked } from "./Unlock.js"

/** Why one backed-up key could not be used (decryption, plaintext, envelope). */
export type FailureReason = string

/** One key of the backup: decrypted, or the reason it failed. */
export interface Decrypted {
  readonly roomId: string
  readonly sessionId: string
  readonly result: Either.Either<RoomKey.RoomKey, FailureReason>
}

/** Options of `decryptedBatches`. */
export interface DownloadOptions {
  /** Only these rooms (one request per room). */
  readonly rooms?: ReadonlyArray<string>
  /** Rooms already restored in an earlier run (a resume skips them). */
  readonly skipRooms?: ReadonlySet<string>
  /** Keys per decryption batch (default 500). */
  readonly batchSize?: number
  /** Batches decrypted at once (default 2). */
  readonly workers?: number
}

/**
 * Decrypts one batch with core's restore classification, so `export` and `restore` report the same reasons.
 * Within a batch, decrypted keys come first and failures after them.
 */
const decryptBatch = (key: Redacted.Redacted<Uint8Array>, entries: ReadonlyArray<HomeserverApi.RoomKeyEntry>) =>
  Effect.flatMap(CryptoBackend.CryptoBackend, (crypto) =>
    Effect.map(DecryptEntries.decryptEntries(crypto, key, entries), ({ keys, failures }): Array<Decrypted> => [
      ...keys.map((roomKey) => ({ roomId: roomKey.roomId, sessionId: roomKey.sessionId, result: Either.right(roomKey) })),
      ...failures.map((failure) => ({ roomId: failure.roomId, sessionId: failure.sessionId, result: Either.left(failure.reason) })),
    ]),
  )

/** `--room` values as room ids, or a usage error naming the one that is not. */
const roomIds = (rooms: ReadonlyArray<string>) =>
  Effect.forEach([...new Set(rooms)], (room) =>
    Effect.mapError(
      Schema.decodeUnknown(Ids.RoomId)(room),
      () => new CliError({ code: "Usage", message: `--room takes a room id such as !abc:example.org, not "${room}"` }),
    ),
  )

/** The raw entries of the backup, or of the chosen rooms. */
const entries = (version: Ids.BackupVersion, rooms: ReadonlyArray<string> | undefined) =>
  Stream.unwrap(
    Effect.gen(function* () {
      const api = yield* HomeserverApi.HomeserverApi
      if (rooms === undefined) return api.streamRoomKeys(version)
      const ids = yield* roomIds(rooms)
      return Stream.flatMap(Stream.fromIterable(ids), (roomId) => api.streamRoomKeys(version, { roomId }))
    }),
  )

/** Batches of decrypted keys, in server order. */
export const decryptedBatches = (
  unlocked: Unlocked,
  options: DownloadOptions = {},
): Stream.Stream<ReadonlyArray<Decrypted>, CliError, HomeserverApi.HomeserverApi | CryptoBackend.CryptoBackend> =>
  entries(unlocked.version, options.rooms).pipe(
    Stream.filter((entry) => options.skipRooms === undefined || !options.skipRooms.has(entry.roomId)),
    Stream.mapError(toCliError),
    Stream.grouped(options.batchSize ?? 500),
    Stream.mapEffect((chunk) => decryptBatch(unlocked.key, Chunk.toReadonlyArray(chunk)), { concurrency: options.workers ?? 2 }),
  )

/** Adds a failure to per-reason counts. */
export const countFailure = (failures: Record<string, number>, reason: string): void => {
  failures[reason] = (failures[reason] ?? 0) + 1
}
