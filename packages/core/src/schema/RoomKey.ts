/**
 * A Megolm room key as the store keeps it (`RoomKey`, camelCase) and as key files and backups carry it
 * (`ExportedRoomKey`, snake_case; spec "Key exports", PROTOCOL.md §3.6 for the shared-history aliases).
 */
import { Schema } from "effect"
import { JsonKey } from "./Json.js"

/** The only room-key algorithm Matrix defines. */
export const MEGOLM_V1_AES_SHA2 = "m.megolm.v1.aes-sha2"

/** Where a key came from: a server backup, a key file, a forwarded key or a direct `m.room_key`. */
export const RoomKeySource = Schema.Literal("backup", "file", "forward", "direct")
export type RoomKeySource = typeof RoomKeySource.Type

/** Unknown fields of a record, preserved so a round trip loses nothing. */
export const Extra = Schema.Record({ key: JsonKey, value: Schema.Unknown })

/** The domain record. `sessionKey` is secret: it never goes into a log or an error. */
export const RoomKey = Schema.Struct({
  roomId: Schema.String,
  sessionId: Schema.String,
  algorithm: Schema.Literal(MEGOLM_V1_AES_SHA2),
  senderKey: Schema.String,
  sessionKey: Schema.String,
  senderClaimedKeys: Schema.Record({ key: JsonKey, value: Schema.String }),
  forwardingCurve25519KeyChain: Schema.Array(Schema.String),
  firstKnownIndex: Schema.Int.pipe(Schema.nonNegative()),
  sharedHistory: Schema.Boolean,
  imported: Schema.Boolean,
  source: Schema.optional(RoomKeySource),
  extra: Schema.optional(Extra),
})
export type RoomKey = typeof RoomKey.Type

/** Names under which producers write the shared-history flag (PROTOCOL.md §3.6). */
export const SHARED_HISTORY_FIELDS = ["m.shared_history", "shared_history", "org.matrix.msc3061.shared_history"] as const

/** One entry of an Element key file or a decrypted backup; unknown fields stay in the object. */
export const ExportedRoomKey = Schema.Struct(
  {
    room_id: Schema.String,
    session_id: Schema.String,
    algorithm: Schema.Literal(MEGOLM_V1_AES_SHA2),
    sender_key: Schema.String,
    session_key: Schema.String,
    sender_claimed_keys: Schema.optionalWith(Schema.Record({ key: JsonKey, value: Schema.String }), {
      default: () => ({}),
    }),
    forwarding_curve25519_key_chain: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    first_known_index: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
    "m.shared_history": Schema.optional(Schema.Unknown),
    shared_history: Schema.optional(Schema.Unknown),
    "org.matrix.msc3061.shared_history": Schema.optional(Schema.Unknown),
  },
  Schema.Record({ key: JsonKey, value: Schema.Unknown }),
)
export type ExportedRoomKey = typeof ExportedRoomKey.Type

const KNOWN_EXPORT_FIELDS: ReadonlySet<string> = new Set([
  "room_id",
  "session_id",
  "algorithm",
  "sender_key",
  "session_key",
  "sender_claimed_keys",
  "forwarding_curve25519_key_chain",
  "first_known_index",
  ...SHARED_HISTORY_FIELDS,
])

/** Options for `fromExported`: how the key arrived. */
export interface FromExportedOptions {
  readonly source?: RoomKeySource
  readonly imported?: boolean
}

/** Maps an exported key to the domain record; the flag is true if any alias is `true`. */
export const fromExported = (exported: ExportedRoomKey, options: FromExportedOptions = {}): RoomKey => {
  const extra: Record<string, unknown> = {}
  let hasExtra = false
  for (const [name, value] of Object.entries(exported)) {
    if (KNOWN_EXPORT_FIELDS.has(name)) continue
    extra[name] = value
    hasExtra = true
  }
  const sharedHistory = SHARED_HISTORY_FIELDS.some((name) => exported[name] === true)
  return {
    roomId: exported.room_id,
    sessionId: exported.session_id,
    algorithm: exported.algorithm,
    senderKey: exported.sender_key,
    sessionKey: exported.session_key,
    senderClaimedKeys: exported.sender_claimed_keys,
    forwardingCurve25519KeyChain: exported.forwarding_curve25519_key_chain,
    firstKnownIndex: exported.first_known_index ?? 0,
    sharedHistory,
    imported: options.imported ?? true,
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(hasExtra ? { extra } : {}),
  }
}

/** Maps the domain record to the export shape; writes only `m.shared_history` (what readers understand). */
export const toExported = (key: RoomKey): ExportedRoomKey => ({
  ...key.extra,
  room_id: key.roomId,
  session_id: key.sessionId,
  algorithm: key.algorithm,
  sender_key: key.senderKey,
  session_key: key.sessionKey,
  sender_claimed_keys: key.senderClaimedKeys,
  forwarding_curve25519_key_chain: key.forwardingCurve25519KeyChain,
  first_known_index: key.firstKnownIndex,
  "m.shared_history": key.sharedHistory,
})
