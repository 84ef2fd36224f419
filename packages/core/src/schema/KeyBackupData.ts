/**
 * Room keys as stored in a backup version (PROTOCOL.md §1.3): `rooms → room_id → sessions →
 * session_id → KeyBackupData`, plus the `{etag, count}` answer of every key write and delete.
 */
import { Schema } from "effect"
import { Base64Bytes, Base64BytesOfLength } from "./Base64.js"
import { RoomIdKey, SessionIdKey } from "./Ids.js"
import { JsonObject, NonNegativeInt } from "./Json.js"

/** One backed-up session. `session_data` is algorithm-specific and opaque to the server. */
export const KeyBackupData = Schema.Struct({
  first_message_index: NonNegativeInt,
  forwarded_count: NonNegativeInt,
  is_verified: Schema.Boolean,
  session_data: JsonObject,
}).annotations({ identifier: "KeyBackupData" })
export type KeyBackupData = typeof KeyBackupData.Type

/**
 * `session_data` of `m.megolm_backup.v1.curve25519-aes-sha2` (§3.3). Lengths of `ciphertext` and
 * `mac` are left to the crypto code, which knows the tolerance rules (§3.4).
 */
export const Curve25519SessionData = Schema.Struct({
  ephemeral: Base64BytesOfLength(32),
  ciphertext: Base64Bytes,
  mac: Base64Bytes,
}).annotations({ identifier: "Curve25519SessionData" })
export type Curve25519SessionData = typeof Curve25519SessionData.Type

/** `session_data` of MSC3270 draft 1 (§4.1): AES-CTR ciphertext with a full HMAC over it. */
export const Aes256SessionData = Schema.Struct({
  iv: Base64BytesOfLength(16),
  ciphertext: Base64Bytes,
  mac: Base64BytesOfLength(32),
}).annotations({ identifier: "Aes256SessionData" })
export type Aes256SessionData = typeof Aes256SessionData.Type

/** The sessions of one room. */
export const RoomKeyBackup = Schema.Struct({
  sessions: Schema.Record({ key: SessionIdKey, value: KeyBackupData }),
}).annotations({ identifier: "RoomKeyBackup" })
export type RoomKeyBackup = typeof RoomKeyBackup.Type

/** `PUT /room_keys/keys?version=V` body. */
export const KeysBackupRequest = Schema.Struct({
  rooms: Schema.Record({ key: RoomIdKey, value: RoomKeyBackup }),
}).annotations({ identifier: "KeysBackupRequest" })
export type KeysBackupRequest = typeof KeysBackupRequest.Type

/** `GET /room_keys/keys?version=V` 200 body (`{"rooms": {}}` when empty). */
export const RoomKeysResponse = KeysBackupRequest
export type RoomKeysResponse = KeysBackupRequest

/** `GET /room_keys/keys/{roomId}?version=V` 200 body (`{"sessions": {}}` when empty). */
export const RoomKeysForRoomResponse = RoomKeyBackup
export type RoomKeysForRoomResponse = RoomKeyBackup

/** `GET /room_keys/keys/{roomId}/{sessionId}?version=V` 200 body: a bare KeyBackupData. */
export const RoomKeyResponse = KeyBackupData
export type RoomKeyResponse = KeyBackupData

/** 200 body of every `PUT`/`DELETE /room_keys/keys...`: the version's etag and total session count. */
export const RoomKeysUpdateResponse = Schema.Struct({
  etag: Schema.String,
  count: NonNegativeInt,
}).annotations({ identifier: "RoomKeysUpdateResponse" })
export type RoomKeysUpdateResponse = typeof RoomKeysUpdateResponse.Type
