/**
 * Device and cross-signing keys (`/keys/query`, `/keys/signatures/upload`, `/account/whoami`),
 * as needed for backup trust (PROTOCOL.md §7.4). Signed objects keep every key they arrive with,
 * so a signature can be checked on the decoded object itself.
 */
import { Schema } from "effect"
import { DeviceId, DeviceIdKey, UserId, UserIdKey } from "./Ids.js"
import { JsonKey, JsonObject, Rest, Signatures } from "./Json.js"

/** A device's identity keys, self-signed (`keys["ed25519:<device_id>"]`). Unknown keys are kept. */
export const DeviceKeys = Schema.Struct(
  {
    user_id: Schema.String,
    device_id: Schema.String,
    algorithms: Schema.Array(Schema.String),
    keys: Schema.Record({ key: JsonKey, value: Schema.String }),
    signatures: Schema.optional(Signatures),
    unsigned: Schema.optional(JsonObject),
  },
  Rest,
).annotations({ identifier: "DeviceKeys" })
export type DeviceKeys = typeof DeviceKeys.Type

/** A master, self-signing or user-signing key. Unknown keys are kept. */
export const CrossSigningKey = Schema.Struct(
  {
    user_id: Schema.String,
    usage: Schema.Array(Schema.String),
    keys: Schema.Record({ key: JsonKey, value: Schema.String }),
    signatures: Schema.optional(Signatures),
  },
  Rest,
).annotations({ identifier: "CrossSigningKey" })
export type CrossSigningKey = typeof CrossSigningKey.Type

/** `POST /keys/query` body; an empty device list means all devices. */
export const KeysQueryRequest = Schema.Struct({
  device_keys: Schema.Record({ key: UserIdKey, value: Schema.Array(DeviceIdKey) }),
  timeout: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
}).annotations({ identifier: "KeysQueryRequest" })
export type KeysQueryRequest = typeof KeysQueryRequest.Type

const PerUser = <A, I>(value: Schema.Schema<A, I>) => Schema.optional(Schema.Record({ key: UserIdKey, value }))

/** `POST /keys/query` 200 body. */
export const KeysQueryResponse = Schema.Struct({
  failures: Schema.optional(Schema.Record({ key: JsonKey, value: JsonObject })),
  device_keys: PerUser(Schema.Record({ key: DeviceIdKey, value: DeviceKeys })),
  master_keys: PerUser(CrossSigningKey),
  self_signing_keys: PerUser(CrossSigningKey),
  user_signing_keys: PerUser(CrossSigningKey),
}).annotations({ identifier: "KeysQueryResponse" })
export type KeysQueryResponse = typeof KeysQueryResponse.Type

/** `POST /keys/signatures/upload` body: user → device id or key id → the signed object. */
export const SignaturesUploadRequest = Schema.Record({
  key: UserIdKey,
  value: Schema.Record({ key: JsonKey, value: JsonObject }),
}).annotations({ identifier: "SignaturesUploadRequest" })
export type SignaturesUploadRequest = typeof SignaturesUploadRequest.Type

/** `POST /keys/signatures/upload` 200 body. */
export const SignaturesUploadResponse = Schema.Struct({
  failures: Schema.optional(
    Schema.Record({ key: JsonKey, value: Schema.Record({ key: JsonKey, value: JsonObject }) }),
  ),
}).annotations({ identifier: "SignaturesUploadResponse" })
export type SignaturesUploadResponse = typeof SignaturesUploadResponse.Type

/** `GET /account/whoami` 200 body. */
export const WhoamiResponse = Schema.Struct({
  user_id: UserId,
  device_id: Schema.optional(DeviceId),
  is_guest: Schema.optional(Schema.Boolean),
}).annotations({ identifier: "WhoamiResponse" })
export type WhoamiResponse = typeof WhoamiResponse.Type
