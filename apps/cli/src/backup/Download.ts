/**
 * The server backup as a stream of decrypted room keys, in batches: streamed download (memory does not grow
 * with the backup), batch decryption by the CryptoBackend with `workers` batches in flight, and every key that
 * fails counted with its reason instead of stopping the run (PROTOCOL.md §3.5, §3.6, §8.3).
 */
import { BackedUpRoomKey, CryptoBackend, HomeserverApi, type Ids, type MegolmBackupV1, type RoomKey } from "@matrix-backup/core"
import { Chunk, Effect, Either, Predicate, Redacted, Stream } from "effect"
import { toCliError } from "../CliError.js"
import type { CliError } from "../CliError.js"
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

const sessionData = (data: Record<string, unknown>): MegolmBackupV1.SessionData | undefined => {
  const { ephemeral, ciphertext, mac } = data
  return Predicate.isString(ephemeral) && Predicate.isString(ciphertext) && Predicate.isString(mac)
    ? { ephemeral, ciphertext, mac }
    : undefined
}

const toRoomKey = (entry: HomeserverApi.RoomKeyEntry, index: number, data: BackedUpRoomKey.BackedUpSessionData): RoomKey.RoomKey => ({
  roomId: entry.roomId,
  sessionId: entry.sessionId,
  algorithm: data.algorithm,
  senderKey: data.sender_key,
  sessionKey: Redacted.value(data.session_key),
  senderClaimedKeys: data.sender_claimed_keys,
  forwardingCurve25519KeyChain: data.forwarding_curve25519_key_chain,
  firstKnownIndex: index,
  sharedHistory: data.shared_history,
  imported: true,
  source: "backup",
  ...(Object.keys(data.extra).length > 0 ? { extra: data.extra } : {}),
})

/** Decrypts one batch; the output has one element per input, in order. */
const decryptBatch = (key: Redacted.Redacted<Uint8Array>, entries: ReadonlyArray<HomeserverApi.RoomKeyEntry>) =>
  Effect.gen(function* () {
    const crypto = yield* CryptoBackend.CryptoBackend
    const items: Array<MegolmBackupV1.SessionData> = []
    const slots: Array<number> = []
    const out: Array<Decrypted> = entries.map((entry, i) => {
      const fail = (reason: string): Decrypted => ({ roomId: entry.roomId, sessionId: entry.sessionId, result: Either.left(reason) })
      if (Either.isLeft(entry.data)) return fail("MalformedEntry")
      const data = sessionData(entry.data.right.session_data)
      if (data === undefined) return fail("MalformedEntry")
      items.push(data)
      slots.push(i)
      return fail("Pending")
    })
    const results = yield* crypto.decryptSessions(key, items)
    results.forEach((result, j) => {
      const i = slots[j] ?? 0
      const entry = entries[i]
      if (entry === undefined || Either.isLeft(entry.data)) return
      const index = entry.data.right.first_message_index
      const decoded = Either.isLeft(result)
        ? Either.left(result.left.reason)
        : Either.mapLeft(BackedUpRoomKey.decodeBackedUpSessionData(result.right), (e) => e.reason)
      if (Either.isRight(result)) result.right.fill(0)
      out[i] = { roomId: entry.roomId, sessionId: entry.sessionId, result: Either.map(decoded, (d) => toRoomKey(entry, index, d)) }
    })
    return out
  })

/** The raw entries of the backup, or of the chosen rooms. */
const entries = (version: Ids.BackupVersion, rooms: ReadonlyArray<string> | undefined) =>
  Stream.unwrap(
    Effect.map(HomeserverApi.HomeserverApi, (api) =>
      rooms === undefined
        ? api.streamRoomKeys(version)
        : Stream.flatMap(Stream.fromIterable([...new Set(rooms)]), (roomId) =>
            api.streamRoomKeys(version, { roomId: roomId as Ids.RoomId }),
          ),
    ),
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
