/**
 * Branded Matrix identifiers. Validation is deliberately light: real ids vary (room version 12 room
 * ids carry no server name, session ids are base64 with `/` and `+`), and a strict check would lose data.
 */
import { Schema } from "effect"

const NonEmpty = Schema.String.pipe(Schema.minLength(1))

/** `@localpart:server`. Only the sigil and the colon are checked. */
export const UserId = Schema.String.pipe(
  Schema.filter((s) => /^@[^:]+:.+$/s.test(s) || "Expected a user id of the form @localpart:server"),
  Schema.brand("UserId"),
  Schema.annotations({ identifier: "UserId" }),
)
export type UserId = typeof UserId.Type

/** A device id: any non-empty string. */
export const DeviceId = NonEmpty.pipe(Schema.brand("DeviceId"), Schema.annotations({ identifier: "DeviceId" }))
export type DeviceId = typeof DeviceId.Type

/** `!opaque` or `!opaque:server`. Only the sigil is checked (room v12 ids have no server part). */
export const RoomId = Schema.String.pipe(
  Schema.filter((s) => /^!.+$/s.test(s) || "Expected a room id starting with !"),
  Schema.brand("RoomId"),
  Schema.annotations({ identifier: "RoomId" }),
)
export type RoomId = typeof RoomId.Type

/** A Megolm session id (unpadded base64, so it may contain `/` and `+`): any non-empty string. */
export const SessionId = NonEmpty.pipe(Schema.brand("SessionId"), Schema.annotations({ identifier: "SessionId" }))
export type SessionId = typeof SessionId.Type

/** A backup version: an opaque non-empty string (Synapse uses decimal integers). */
export const BackupVersion = NonEmpty.pipe(
  Schema.brand("BackupVersion"),
  Schema.annotations({ identifier: "BackupVersion" }),
)
export type BackupVersion = typeof BackupVersion.Type

/**
 * Map keys: `Schema.Record` silently drops keys that fail a refinement, so record keys are branded
 * without any check. Nothing a server sends under `rooms`/`sessions` is discarded.
 */
export const RoomIdKey = Schema.String.pipe(Schema.brand("RoomId"))
/** See {@link RoomIdKey}. */
export const SessionIdKey = Schema.String.pipe(Schema.brand("SessionId"))
/** See {@link RoomIdKey}. */
export const UserIdKey = Schema.String.pipe(Schema.brand("UserId"))
/** See {@link RoomIdKey}. */
export const DeviceIdKey = Schema.String.pipe(Schema.brand("DeviceId"))
