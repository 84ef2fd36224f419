/**
 * Secret Storage (4S) account data and the backup preference (PROTOCOL.md §6.1, §6.2, §6.6).
 * Nothing deletes account data, so `{}` (or content without its defining field) reads as absent.
 */
import { Either, Option, ParseResult, Predicate, Schema } from "effect"
import { Base64Bytes, Base64BytesOfLength } from "./Base64.js"
import { JsonKey, JsonObject, Signatures } from "./Json.js"

/** The 4S key and secret algorithm. */
export const SECRET_STORAGE_AES_HMAC_SHA2 = "m.secret_storage.v1.aes-hmac-sha2"
/** The passphrase derivation algorithm. */
export const PBKDF2 = "m.pbkdf2"
/** Account-data type naming the default key. */
export const DEFAULT_KEY_EVENT_TYPE = "m.secret_storage.default_key"
/** Prefix of a key description's account-data type. */
export const KEY_EVENT_TYPE_PREFIX = "m.secret_storage.key."
/** 4S secret (and `m.secret.send` name) holding the backup key. */
export const MEGOLM_BACKUP_SECRET = "m.megolm_backup.v1"
/** The cross-signing private keys js-sdk keeps in 4S (and checks and blanks) besides the backup key. */
export const CROSS_SIGNING_SECRETS = ["m.cross_signing.master", "m.cross_signing.user_signing", "m.cross_signing.self_signing"] as const
/** Account-data type of the user's backup preference (spec v1.19). */
export const KEY_BACKUP_EVENT_TYPE = "m.key_backup"
/** Unstable backup preference that matrix-rust-sdk also writes. */
export const BACKUP_DISABLED_EVENT_TYPE = "m.org.matrix.custom.backup_disabled"

/** `m.secret_storage.key.<keyId>`. */
export const keyEventType = (keyId: string): string => KEY_EVENT_TYPE_PREFIX + keyId

/** `m.pbkdf2` passphrase parameters (§5.4). `bits` defaults to 256 where it is used. */
export const Pbkdf2Passphrase = Schema.Struct({
  algorithm: Schema.Literal(PBKDF2),
  salt: Schema.String,
  iterations: Schema.Int.pipe(Schema.positive()),
  bits: Schema.optional(Schema.Int.pipe(Schema.positive())),
}).annotations({ identifier: "Pbkdf2Passphrase" })
export type Pbkdf2Passphrase = typeof Pbkdf2Passphrase.Type

/** A passphrase block with another algorithm: kept, not usable. */
export const UnknownPassphrase = Schema.Struct({ algorithm: Schema.String }, JsonObject)
export type UnknownPassphrase = typeof UnknownPassphrase.Type

const OptionalName = Schema.optionalWith(Schema.String, { nullable: true })

/** Key description of `m.secret_storage.v1.aes-hmac-sha2`. Missing `iv`/`mac` means any key passes. */
export const AesHmacSha2KeyDescription = Schema.Struct({
  algorithm: Schema.Literal(SECRET_STORAGE_AES_HMAC_SHA2),
  name: OptionalName,
  passphrase: Schema.optional(Schema.Union(Pbkdf2Passphrase, UnknownPassphrase)),
  iv: Schema.optional(Base64BytesOfLength(16)),
  mac: Schema.optional(Base64BytesOfLength(32)),
  signatures: Schema.optional(Signatures),
}).annotations({ identifier: "AesHmacSha2KeyDescription" })
export type AesHmacSha2KeyDescription = typeof AesHmacSha2KeyDescription.Type

/** A key description of an algorithm we do not know; `raw` is the content as stored. */
export const UnknownKeyDescription = Schema.TaggedStruct("Unknown", {
  algorithm: Schema.String,
  raw: JsonObject,
})
export type UnknownKeyDescription = typeof UnknownKeyDescription.Type

const TaggedAes = Schema.TaggedStruct("AesHmacSha2", {
  description: Schema.typeSchema(AesHmacSha2KeyDescription),
})

/** `m.secret_storage.key.<keyId>` content, decided by algorithm. */
export const SecretStorageKeyDescription = Schema.transformOrFail(
  Schema.Struct({ algorithm: Schema.String }, JsonObject),
  Schema.Union(TaggedAes, UnknownKeyDescription),
  {
    strict: true,
    decode: (raw, options) =>
      raw.algorithm === SECRET_STORAGE_AES_HMAC_SHA2
        ? ParseResult.map(ParseResult.decodeUnknown(AesHmacSha2KeyDescription)(raw, options), (description) =>
            TaggedAes.make({ description }),
          )
        : ParseResult.succeed(UnknownKeyDescription.make({ algorithm: raw.algorithm, raw })),
    encode: (value, options) =>
      value._tag === "Unknown"
        ? ParseResult.succeed({ ...value.raw, algorithm: value.algorithm })
        : ParseResult.encode(AesHmacSha2KeyDescription)(value.description, options),
  },
).annotations({ identifier: "SecretStorageKeyDescription" })
export type SecretStorageKeyDescription = typeof SecretStorageKeyDescription.Type

/** `m.secret_storage.default_key` content. */
export const DefaultKeyEvent = Schema.Struct({ key: Schema.String }).annotations({ identifier: "DefaultKeyEvent" })
export type DefaultKeyEvent = typeof DefaultKeyEvent.Type

/** One key's encryption of a secret under `m.secret_storage.v1.aes-hmac-sha2` (§6.4). */
export const AesHmacSha2EncryptedData = Schema.Struct({
  iv: Base64BytesOfLength(16),
  ciphertext: Base64Bytes,
  mac: Base64BytesOfLength(32),
}).annotations({ identifier: "AesHmacSha2EncryptedData" })
export type AesHmacSha2EncryptedData = typeof AesHmacSha2EncryptedData.Type

/**
 * A secret's account data. Entries stay raw: a secret may be encrypted under several keys of
 * different algorithms, and one odd entry must not hide the others. Decode the chosen entry with
 * `AesHmacSha2EncryptedData`.
 */
export const EncryptedSecret = Schema.Struct({
  encrypted: Schema.Record({ key: JsonKey, value: JsonObject }),
}).annotations({ identifier: "EncryptedSecret" })
export type EncryptedSecret = typeof EncryptedSecret.Type

/** `m.key_backup` content: whether the user wants key backup on. */
export const KeyBackupEnabledEvent = Schema.Struct({ enabled: Schema.Boolean }).annotations({
  identifier: "KeyBackupEnabledEvent",
})
export type KeyBackupEnabledEvent = typeof KeyBackupEnabledEvent.Type

/** `m.org.matrix.custom.backup_disabled` content. */
export const BackupDisabledEvent = Schema.Struct({ disabled: Schema.Boolean })
export type BackupDisabledEvent = typeof BackupDisabledEvent.Type

/**
 * Decodes account data, treating "deleted" content as absent: `{}` or content lacking `field`
 * (`key`, `encrypted`, `algorithm`, `enabled`) is `None`; anything else must decode.
 */
export const decodeAccountData =
  <A, I>(schema: Schema.Schema<A, I>, field: string) =>
  (content: unknown): Either.Either<Option.Option<A>, ParseResult.ParseError> => {
    if (Predicate.isRecord(content) && !Array.isArray(content) && content[field] === undefined) {
      return Either.right(Option.none())
    }
    return Either.map(Schema.decodeUnknownEither(schema)(content), Option.some)
  }

/** `m.secret_storage.default_key`; absent when `{}`. */
export const decodeDefaultKey = decodeAccountData(DefaultKeyEvent, "key")
/** `m.secret_storage.key.<id>`; absent when `{}`. */
export const decodeKeyDescription = decodeAccountData(SecretStorageKeyDescription, "algorithm")
/** A 4S secret; absent when `{}` or without `encrypted`. */
export const decodeEncryptedSecret = decodeAccountData(EncryptedSecret, "encrypted")
/** `m.key_backup`; absent when `{}`. */
export const decodeKeyBackupEnabled = decodeAccountData(KeyBackupEnabledEvent, "enabled")
