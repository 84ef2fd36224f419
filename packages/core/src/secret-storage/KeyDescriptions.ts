/**
 * 4S key descriptions as values: building one for a new key, checking a candidate key against one (PROTOCOL.md §6.2,
 * §6.3), converting to the JSON apps see, and deriving a key from a passphrase with its `m.pbkdf2` parameters (§5.4).
 */
import { type Context, Effect, Either, Option, type Redacted, Schema } from "effect"
import { calculateKeyCheck, checkKey as checkKeyBytes } from "../crypto/AesHmacSha2.js"
import { DEFAULT_PBKDF2_BITS } from "../crypto/Passphrase.js"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"
import type { JsonObject } from "../schema/Json.js"
import {
  type AesHmacSha2KeyDescription,
  Pbkdf2Passphrase,
  SECRET_STORAGE_AES_HMAC_SHA2,
  SecretStorageKeyDescription,
} from "../schema/SecretStorage.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import { type SecretStorageError, secretStorageError } from "./SecretStorageError.js"

/** Length of every 4S key. */
export const SECRET_STORAGE_KEY_LENGTH = 32

/** The AES description of a new key: its key check computed with `iv16` (bit 63 is cleared by the crypto layer). */
export const makeKeyDescription = (options: {
  readonly key: Uint8Array
  readonly iv16: Uint8Array
  readonly name?: string
  readonly passphrase?: Pbkdf2Passphrase
}): AesHmacSha2KeyDescription => {
  const check = calculateKeyCheck(options.key, options.iv16)
  return {
    algorithm: SECRET_STORAGE_AES_HMAC_SHA2,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    iv: decodeBase64(check.iv) ?? new Uint8Array(16),
    mac: decodeBase64(check.mac) ?? new Uint8Array(32),
  }
}

/** Wraps an AES description in the decoded union. */
export const aesKeyDescription = (description: AesHmacSha2KeyDescription): SecretStorageKeyDescription => ({
  _tag: "AesHmacSha2",
  description,
})

const encodeDescription = Schema.encodeEither(SecretStorageKeyDescription)

/** The account-data JSON of a description (what matrix-js-sdk calls `SecretStorageKeyDescription`); base64 unpadded. */
export const keyDescriptionToJson = (info: SecretStorageKeyDescription): JsonObject =>
  Either.getOrElse(encodeDescription(info), () => (info._tag === "Unknown" ? info.raw : { algorithm: info.description.algorithm }))

/** The algorithm a description names. */
export const algorithmOf = (info: SecretStorageKeyDescription): string =>
  info._tag === "Unknown" ? info.algorithm : info.description.algorithm

/**
 * Whether `key` is the key a description describes. A description without `iv`/`mac` accepts any key (§6.2);
 * an unknown algorithm cannot be checked and fails; a key of the wrong length is not the key.
 */
export const checkKeyAgainst = (key: Uint8Array, info: SecretStorageKeyDescription): Either.Either<boolean, SecretStorageError> => {
  if (info._tag === "Unknown") return Either.left(secretStorageError("UnknownAlgorithm", { detail: info.algorithm }))
  if (key.length !== SECRET_STORAGE_KEY_LENGTH) return Either.right(false)
  const { iv, mac } = info.description
  if (iv === undefined || mac === undefined) return Either.right(true)
  return Either.right(checkKeyBytes(key, { iv: encodeBase64(iv), mac: encodeBase64(mac) }))
}

const isPbkdf2 = Schema.is(Pbkdf2Passphrase)

/** The `m.pbkdf2` parameters of a description, when it has usable ones. */
export const pbkdf2ParamsOf = (info: SecretStorageKeyDescription): Option.Option<Pbkdf2Passphrase> => {
  if (info._tag === "Unknown") return Option.none()
  const passphrase = info.description.passphrase
  return isPbkdf2(passphrase) ? Option.some(passphrase) : Option.none()
}

/**
 * Derives the key of a passphrase-backed description (§5.4). `bits` other than 256 cannot give a 4S key and is
 * refused rather than silently truncated; a description without `m.pbkdf2` fails with `NoPassphrase`.
 */
export const deriveKeyForDescription = (
  backend: Context.Tag.Service<CryptoBackend>,
  passphrase: Redacted.Redacted<string>,
  info: SecretStorageKeyDescription,
  keyId?: string,
): Effect.Effect<Redacted.Redacted<Uint8Array>, SecretStorageError> =>
  Option.match(pbkdf2ParamsOf(info), {
    onNone: () => Effect.fail(secretStorageError("NoPassphrase", keyId === undefined ? {} : { keyId })),
    onSome: (params) => {
      const bits = params.bits ?? DEFAULT_PBKDF2_BITS
      if (bits !== DEFAULT_PBKDF2_BITS) {
        return Effect.fail(secretStorageError("Malformed", { ...(keyId === undefined ? {} : { keyId }), detail: `m.pbkdf2 bits ${bits}` }))
      }
      return backend.pbkdf2Sha512(passphrase, params.salt, params.iterations, bits)
    },
  })
