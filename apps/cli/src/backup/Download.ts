/**
 * The server backup as a stream of decrypted room keys, in batches: streamed download (memory does not grow
 * with the backup), batch decryption by the CryptoBackend with `workers` batches in flight, and every key that
 * fails counted with its reason instead of stopping the run (PROTOCOL.md §3.5, §3.6, §8.3).
 */
import { BackedUpRoomKey, CryptoBackend, HomeserverApi, type Ids, type MegolmBackupV1, type RoomKey, SessionExport } from "@matrix-backup/core"
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

/** Plaintext fields that repeat the map keys (js-sdk's exports carry them); not kept as extras. */
const ID_FIELDS = new Set(["room_id", "session_id", "first_known_index"])

/** The same classification as core's restore, so `export` and `restore` report the same reasons. */
const decryptionReason = (error: MegolmBackupV1.BackupDecryptionError): string => {
  if (error.reason === "BadBase64" || error.reason === "BadLength") return error.field === "mac" ? "BadMac" : "MalformedSessionData"
  return error.reason
}

/** The domain key from a decrypted plaintext; the session export's own index is authoritative. */
const toRoomKey = (entry: HomeserverApi.RoomKeyEntry, plaintext: Uint8Array): Either.Either<RoomKey.RoomKey, FailureReason> => {
  const decoded = BackedUpRoomKey.decodeBackedUpSessionData(plaintext)
  if (Either.isLeft(decoded)) return Either.left(decoded.left.reason)
  const data = decoded.right
  const sessionKey = Redacted.value(data.session_key)
  const exported = SessionExport.parseSessionExport(sessionKey)
  if (Either.isLeft(exported)) return Either.left("InvalidSessionKey")
  const extra = Object.entries(data.extra).filter(([name]) => !ID_FIELDS.has(name))
  return Either.right({
    roomId: entry.roomId,
    sessionId: entry.sessionId,
    algorithm: data.algorithm,
    senderKey: data.sender_key,
    sessionKey,
    senderClaimedKeys: data.sender_claimed_keys,
    forwardingCurve25519KeyChain: data.forwarding_curve25519_key_chain,
    firstKnownIndex: exported.right.firstKnownIndex,
    sharedHistory: data.shared_history,
    imported: true,
    source: "backup",
    ...(extra.length > 0 ? { extra: Object.fromEntries(extra) } : {}),
  })
}

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
      if (data === undefined) return fail("MalformedSessionData")
      items.push(data)
      slots.push(i)
      return fail("Pending")
    })
    const results = yield* crypto.decryptSessions(key, items)
    results.forEach((result, j) => {
      const i = slots[j] ?? 0
      const entry = entries[i]
      if (entry === undefined) return
      const decoded = Either.isLeft(result) ? Either.left(decryptionReason(result.left)) : toRoomKey(entry, result.right)
      // The plaintext holds the session key; the RoomKey keeps its own copy as a string.
      if (Either.isRight(result)) result.right.fill(0)
      out[i] = { roomId: entry.roomId, sessionId: entry.sessionId, result: decoded }
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
