/**
 * Backup version bodies (`/room_keys/version`, PROTOCOL.md §1.2) and their `auth_data`, whose shape
 * depends on `algorithm` (§3.1, §4.1). Unknown algorithms and malformed `auth_data` decode to the
 * `Unknown` variant, never a failure; every variant keeps the raw object for signature checks.
 */
import { Either, ParseResult, Schema } from "effect"
import { Base64BytesOfLength } from "./Base64.js"
import { BackupVersion } from "./Ids.js"
import { JsonObject, NonNegativeInt, Signatures } from "./Json.js"

/** The asymmetric backup algorithm (the only one in the spec). */
export const MEGOLM_BACKUP_V1_CURVE25519 = "m.megolm_backup.v1.curve25519-aes-sha2"
/** MSC3270 draft 1 symmetric backup, stable-prefixed name used by legacy js-sdk. */
export const MEGOLM_BACKUP_V1_AES = "m.megolm_backup.v1.aes-hmac-sha2"
/** MSC3270 draft 1 symmetric backup, unstable name. */
export const MSC3270_V1_AES = "org.matrix.msc3270.v1.aes-hmac-sha2"

const Legacy = {
  private_key_salt: Schema.optional(Schema.String),
  private_key_iterations: Schema.optional(Schema.Int.pipe(Schema.positive())),
  private_key_bits: Schema.optional(Schema.Int.pipe(Schema.positive())),
}

/** Wire form of curve25519 `auth_data` (§3.1); known fields only, the rest stays in `raw`. */
export const Curve25519AuthDataFields = Schema.Struct({
  public_key: Base64BytesOfLength(32),
  signatures: Schema.optional(Signatures),
  ...Legacy,
})

/** Wire form of MSC3270 draft 1 `auth_data` (§4.1): a 4S-style key check; absent `mac` accepts any key. */
export const Aes256AuthDataFields = Schema.Struct({
  iv: Schema.optional(Base64BytesOfLength(16)),
  mac: Schema.optional(Base64BytesOfLength(32)),
  signatures: Schema.optional(Signatures),
  ...Legacy,
})

const RawField = { raw: JsonObject }

/** Decoded curve25519 `auth_data`. `raw` is the object exactly as served (sign and verify over it). */
export const Curve25519AuthData = Schema.TaggedStruct("Curve25519", {
  ...Curve25519AuthDataFields.fields,
  public_key: Schema.Uint8ArrayFromSelf,
  ...RawField,
})
export type Curve25519AuthData = typeof Curve25519AuthData.Type

/** Decoded MSC3270 draft 1 `auth_data`: recognised, but no restore support. */
export const Aes256AuthData = Schema.TaggedStruct("Aes256", {
  ...Aes256AuthDataFields.fields,
  iv: Schema.optional(Schema.Uint8ArrayFromSelf),
  mac: Schema.optional(Schema.Uint8ArrayFromSelf),
  ...RawField,
})
export type Aes256AuthData = typeof Aes256AuthData.Type

/** Any other algorithm, or a known one whose `auth_data` does not parse (`issue` says why). */
export const UnknownAuthData = Schema.TaggedStruct("Unknown", {
  reason: Schema.Literal("UnknownAlgorithm", "MalformedAuthData"),
  issue: Schema.optional(Schema.String),
  ...RawField,
})
export type UnknownAuthData = typeof UnknownAuthData.Type

/** `auth_data` as decided by the algorithm. */
export const BackupAuthData = Schema.Union(Curve25519AuthData, Aes256AuthData, UnknownAuthData)
export type BackupAuthData = typeof BackupAuthData.Type

/** True for both names of MSC3270 draft 1. */
export const isAes256Algorithm = (algorithm: string): boolean =>
  algorithm === MEGOLM_BACKUP_V1_AES || algorithm === MSC3270_V1_AES

/** Decides the `auth_data` variant; never fails. */
export const decodeAuthData = (algorithm: string, raw: JsonObject): BackupAuthData => {
  const malformed = (error: ParseResult.ParseError): BackupAuthData =>
    UnknownAuthData.make({ reason: "MalformedAuthData", issue: ParseResult.TreeFormatter.formatErrorSync(error), raw })
  if (algorithm === MEGOLM_BACKUP_V1_CURVE25519) {
    return Either.match(Schema.decodeUnknownEither(Curve25519AuthDataFields)(raw), {
      onLeft: malformed,
      onRight: (fields) => Curve25519AuthData.make({ ...fields, raw }),
    })
  }
  if (isAes256Algorithm(algorithm)) {
    return Either.match(Schema.decodeUnknownEither(Aes256AuthDataFields)(raw), {
      onLeft: malformed,
      onRight: (fields) => Aes256AuthData.make({ ...fields, raw }),
    })
  }
  return UnknownAuthData.make({ reason: "UnknownAlgorithm", raw })
}

const KeyBackupInfoEncoded = Schema.Struct({
  algorithm: Schema.String,
  auth_data: JsonObject,
  count: Schema.optional(NonNegativeInt),
  etag: Schema.optional(Schema.String),
  version: Schema.optional(BackupVersion),
})

const KeyBackupInfoType = Schema.Struct({
  ...KeyBackupInfoEncoded.fields,
  auth_data: Schema.typeSchema(BackupAuthData),
  version: Schema.optional(Schema.typeSchema(BackupVersion)),
})

/**
 * `GET /room_keys/version[/{version}]` 200 body. `auth_data` is a variant; encoding writes its `raw`.
 * The spec marks count/etag/version required; they are optional here so a locally built info decodes.
 */
export const KeyBackupInfo = Schema.transform(KeyBackupInfoEncoded, KeyBackupInfoType, {
  strict: true,
  decode: (wire) => ({ ...wire, auth_data: decodeAuthData(wire.algorithm, wire.auth_data) }),
  encode: (info) => ({ ...info, auth_data: info.auth_data.raw }),
}).annotations({ identifier: "KeyBackupInfo" })
export type KeyBackupInfo = typeof KeyBackupInfo.Type

/** `POST /room_keys/version` body. `auth_data` is sent verbatim (it is what was signed). */
export const CreateBackupVersionRequest = Schema.Struct({ algorithm: Schema.String, auth_data: JsonObject })
export type CreateBackupVersionRequest = typeof CreateBackupVersionRequest.Type

/** `PUT /room_keys/version/{version}` body; `algorithm` must equal the stored one. */
export const UpdateBackupVersionRequest = Schema.Struct({
  algorithm: Schema.String,
  auth_data: JsonObject,
  version: Schema.optional(BackupVersion),
})
export type UpdateBackupVersionRequest = typeof UpdateBackupVersionRequest.Type

/** `POST /room_keys/version` 200 body. */
export const CreateBackupVersionResponse = Schema.Struct({ version: BackupVersion })
export type CreateBackupVersionResponse = typeof CreateBackupVersionResponse.Type

/** The `{}` body of version PUT/DELETE (extra keys ignored). */
export const EmptyResponse = Schema.Struct({})
export type EmptyResponse = typeof EmptyResponse.Type
