/**
 * Turns one batch of downloaded backup entries into room keys ready to import, with a typed reason for
 * each entry that fails (PROTOCOL.md §3.5, §3.6). One bad entry never affects the others.
 */
import type { Context } from "effect"
import { Effect, Either, Predicate, Redacted } from "effect"
import type { BackupDecryptionError, SessionData } from "../crypto/MegolmBackupV1.js"
import { parseSessionExport } from "../crypto/SessionExport.js"
import { decodeBackedUpSessionData } from "../schema/BackedUpRoomKey.js"
import type { KeyBackupData } from "../schema/KeyBackupData.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { RoomKeyEntry } from "../services/HomeserverApi.js"
import type { FailureReason } from "./RestoreError.js"

/** One entry that could not be imported, and why. */
export interface FailedEntry {
  readonly roomId: string
  readonly sessionId: string
  readonly reason: FailureReason
}

/** The result of one batch: keys to import, and every entry that failed. */
export interface DecryptedBatch {
  readonly keys: ReadonlyArray<RoomKey>
  readonly failures: ReadonlyArray<FailedEntry>
}

/** Plaintext fields that repeat the map keys (js-sdk's exports carry them); not kept as extras. */
const ID_FIELDS = new Set(["room_id", "session_id", "first_known_index"])

const sessionDataOf = (data: KeyBackupData): SessionData | undefined => {
  const { ephemeral, ciphertext, mac } = data.session_data
  return Predicate.isString(ephemeral) && Predicate.isString(ciphertext) && Predicate.isString(mac)
    ? { ephemeral, ciphertext, mac }
    : undefined
}

const reasonOfDecryption = (error: BackupDecryptionError): FailureReason => {
  switch (error.reason) {
    case "BadBase64":
    case "BadLength":
      // A MAC that does not even decode to 8 bytes cannot match: count it with the MAC failures.
      return error.field === "mac" ? "BadMac" : "MalformedSessionData"
    case "WeakSharedSecret":
    case "BadMac":
    case "BadPadding":
      return error.reason
  }
}

/** Builds the domain key from a decrypted plaintext; the session export's index is authoritative. */
export const roomKeyFromPlaintext = (
  roomId: string,
  sessionId: string,
  plaintext: Uint8Array,
): Either.Either<RoomKey, FailureReason> => {
  const decoded = decodeBackedUpSessionData(plaintext)
  if (Either.isLeft(decoded)) return Either.left(decoded.left.reason)
  const data = decoded.right
  const sessionKey = Redacted.value(data.session_key)
  const exported = parseSessionExport(sessionKey)
  if (Either.isLeft(exported)) return Either.left("InvalidSessionKey")
  const extraEntries = Object.entries(data.extra).filter(([name]) => !ID_FIELDS.has(name))
  return Either.right({
    roomId,
    sessionId,
    algorithm: data.algorithm,
    senderKey: data.sender_key,
    sessionKey,
    senderClaimedKeys: data.sender_claimed_keys,
    forwardingCurve25519KeyChain: data.forwarding_curve25519_key_chain,
    firstKnownIndex: exported.right.firstKnownIndex,
    sharedHistory: data.shared_history,
    imported: true,
    source: "backup",
    ...(extraEntries.length > 0 ? { extra: Object.fromEntries(extraEntries) } : {}),
  })
}

/** Decrypts a batch with one `decryptSessions` call and classifies every entry. */
export const decryptEntries = (
  backend: Context.Tag.Service<CryptoBackend>,
  privateKey: Redacted.Redacted<Uint8Array>,
  entries: ReadonlyArray<RoomKeyEntry>,
): Effect.Effect<DecryptedBatch> => {
  const failures: Array<FailedEntry> = []
  const fail = (entry: RoomKeyEntry, reason: FailureReason) => failures.push({ roomId: entry.roomId, sessionId: entry.sessionId, reason })
  const items: Array<SessionData> = []
  const owners: Array<RoomKeyEntry> = []
  for (const entry of entries) {
    if (Either.isLeft(entry.data)) {
      fail(entry, "MalformedEntry")
      continue
    }
    const sessionData = sessionDataOf(entry.data.right)
    if (sessionData === undefined) {
      fail(entry, "MalformedSessionData")
      continue
    }
    items.push(sessionData)
    owners.push(entry)
  }
  if (items.length === 0) return Effect.succeed({ keys: [], failures })
  return Effect.map(backend.decryptSessions(privateKey, items), (results) => {
    const keys: Array<RoomKey> = []
    results.forEach((result, i) => {
      const owner = owners[i]
      if (owner === undefined) return
      const key = Either.isLeft(result)
        ? Either.left(reasonOfDecryption(result.left))
        : roomKeyFromPlaintext(owner.roomId, owner.sessionId, result.right)
      // The plaintext holds the session key; the RoomKey keeps its own copy as a string.
      if (Either.isRight(result)) result.right.fill(0)
      if (Either.isLeft(key)) fail(owner, key.left)
      else keys.push(key.right)
    })
    return { keys, failures }
  })
}
