/**
 * Turns pending room keys into one `PUT /room_keys/keys` body: the `BackedUpSessionData` plaintext of each
 * session at its first known index (PROTOCOL.md §3.6), encrypted in one `CryptoBackend` batch call, wrapped in the
 * `KeyBackupData` envelope as matrix-rust-sdk fills it (§3.7).
 */
import type { Context } from "effect"
import { Effect, Redacted } from "effect"
import { utf8Encode, wipe } from "../crypto/Bytes.js"
import type { BackedUpSessionData } from "../schema/BackedUpRoomKey.js"
import { encodeBackedUpSessionData } from "../schema/BackedUpRoomKey.js"
import { MEGOLM_V1_AES_SHA2 } from "../schema/RoomKey.js"
import { RoomIdKey, SessionIdKey } from "../schema/Ids.js"
import type { KeyBackupData, KeysBackupRequest, RoomKeyBackup } from "../schema/KeyBackupData.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { PendingRoomKey } from "../services/BackupStore.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { RoomKeyRef } from "../store/Encoded.js"

/** The decrypted form a backup holds for `key`: the session export plus sender metadata. */
export const backedUpSessionData = (key: RoomKey): BackedUpSessionData => ({
  algorithm: MEGOLM_V1_AES_SHA2,
  sender_key: key.senderKey,
  session_key: Redacted.make(key.sessionKey),
  sender_claimed_keys: key.senderClaimedKeys,
  forwarding_curve25519_key_chain: key.forwardingCurve25519KeyChain,
  shared_history: key.sharedHistory,
  extra: key.extra ?? {},
})

/** UTF-8 plaintext bytes for `key` (the caller wipes them after encrypting). */
export const plaintextOf = (key: RoomKey): Uint8Array => utf8Encode(JSON.stringify(encodeBackedUpSessionData(backedUpSessionData(key))))

/** The envelope fields: matrix-rust-sdk sends `forwarded_count` 1 for imported sessions, and never claims verification. */
export const envelopeOf = (key: RoomKey, sessionData: Record<string, unknown>): KeyBackupData => ({
  first_message_index: key.firstKnownIndex,
  forwarded_count: key.imported ? 1 : 0,
  is_verified: false,
  session_data: sessionData,
})

/** One request body and the store references it covers. */
export interface UploadBatch {
  readonly request: KeysBackupRequest
  readonly refs: ReadonlyArray<RoomKeyRef>
}

/** Encrypts `keys` to `publicKey` in one batch call and groups them by room. */
export const encryptBatch = (
  crypto: Context.Tag.Service<CryptoBackend>,
  publicKey: Uint8Array,
  keys: ReadonlyArray<PendingRoomKey>,
): Effect.Effect<UploadBatch> =>
  Effect.suspend(() => {
    const plaintexts = keys.map(plaintextOf)
    return crypto.encryptSessions(publicKey, plaintexts).pipe(
      Effect.ensuring(Effect.sync(() => plaintexts.forEach(wipe))),
      Effect.map((encrypted) => {
        const rooms: Record<string, Record<string, KeyBackupData>> = {}
        keys.forEach((key, i) => {
          const data = encrypted[i]
          if (data === undefined) return
          const sessions = (rooms[key.roomId] ??= {})
          sessions[key.sessionId] = envelopeOf(key, { ...data })
        })
        return { request: toRequest(rooms), refs: keys.map(({ roomId, sessionId, revision }) => ({ roomId, sessionId, revision })) }
      }),
    )
  })

const toRequest = (rooms: Record<string, Record<string, KeyBackupData>>): KeysBackupRequest => {
  const out: Record<RoomIdKey, RoomKeyBackup> = {}
  for (const [roomId, sessions] of Object.entries(rooms)) {
    const branded: Record<SessionIdKey, KeyBackupData> = {}
    for (const [sessionId, data] of Object.entries(sessions)) branded[SessionIdKey.make(sessionId)] = data
    out[RoomIdKey.make(roomId)] = { sessions: branded }
  }
  return { rooms: out }
}

type RoomIdKey = typeof RoomIdKey.Type
type SessionIdKey = typeof SessionIdKey.Type
