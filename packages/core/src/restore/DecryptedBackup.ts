/**
 * The backup as a stream of decrypted batches: entries stream from the server (the whole backup, or chosen rooms),
 * are grouped into bounded batches and decrypted with bounded concurrency, in server order. Memory does not grow
 * with the backup. The restore pipeline imports these batches; an export writes them to a file.
 */
import type { Context } from "effect"
import { Chunk, Effect, Stream, type Redacted } from "effect"
import { type BackupVersion, RoomIdKey } from "../schema/Ids.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { HomeserverApi, RoomKeyEntry } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { DecryptedBatch } from "./DecryptEntries.js"
import { decryptEntries } from "./DecryptEntries.js"

/** Sessions per batch: per decryption call, per store transaction and per progress report. */
export const DEFAULT_BATCH_SIZE = 200
/** Batches decrypted at the same time. */
export const DEFAULT_CONCURRENCY = 4

/** One decrypted batch with the entries it came from (in server order). */
export interface DecryptedChunk {
  readonly entries: ReadonlyArray<RoomKeyEntry>
  readonly decrypted: DecryptedBatch
}

/** How batches are cut and decrypted. */
export interface BatchOptions {
  readonly batchSize?: number
  readonly concurrency?: number
}

/** The raw entries of version `version`: the whole backup, or only `rooms` (one request each, in the order given). */
export const backupEntries = (api: Context.Tag.Service<HomeserverApi>, version: BackupVersion, rooms?: ReadonlyArray<string>) =>
  rooms === undefined
    ? api.streamRoomKeys(version)
    : Stream.flatMap(Stream.fromIterable([...new Set(rooms)]), (roomId) =>
        Stream.suspend(() => api.streamRoomKeys(version, { roomId: RoomIdKey.make(roomId) })),
      )

/**
 * Confirms the version a download read is still there. A download smaller than the server's count, or of chosen rooms
 * (whose count nobody reported), may be of a version deleted meanwhile: conduwuit, tuwunel and Palpo read a deleted
 * version as 200 with what is still stored under its id, none or the few keys an upload racing the delete wrote. Then
 * one GET of the version tells: it fails with `BackupNotFound` when the version is gone. A whole download of at least
 * `count` keys needs no request.
 */
export const confirmVersion = (
  api: Context.Tag.Service<HomeserverApi>,
  version: BackupVersion,
  download: { readonly seen: number; readonly count: number; readonly wholeBackup: boolean },
): Effect.Effect<void, HomeserverApiError> =>
  download.seen > 0 && download.wholeBackup && download.seen >= download.count ? Effect.void : Effect.asVoid(api.getBackupVersion(version))

/** Groups entries into batches and decrypts them with `privateKey`, `concurrency` batches at once, order kept. */
export const decryptInBatches =
  (backend: Context.Tag.Service<CryptoBackend>, privateKey: Redacted.Redacted<Uint8Array>, options: BatchOptions = {}) =>
  <E, R>(entries: Stream.Stream<RoomKeyEntry, E, R>): Stream.Stream<DecryptedChunk, E, R> =>
    entries.pipe(
      Stream.grouped(Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE))),
      Stream.mapEffect(
        (chunk) => {
          const batch = Chunk.toReadonlyArray(chunk)
          return Effect.map(decryptEntries(backend, privateKey, batch), (decrypted) => ({ entries: batch, decrypted }))
        },
        { concurrency: Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY)) },
      ),
    )
