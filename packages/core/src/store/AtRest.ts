/**
 * Optional at-rest encryption of the secrets a store keeps (backup decryption key, cached 4S keys):
 * AES-256-GCM with a random 96-bit nonce per write, the value's name as associated data (so a sealed
 * value cannot be moved to another slot), and a JSON envelope that says whether a value is sealed.
 */
import { gcm } from "@noble/ciphers/aes.js"
import { Either, Redacted, Schema } from "effect"
import { wipe } from "../crypto/Bytes.js"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"
import { StorageError } from "./StorageError.js"

/** AES-256 key length in bytes. */
export const AT_REST_KEY_LENGTH = 32
const NONCE_LENGTH = 12

const Envelope = Schema.Union(
  Schema.Struct({ v: Schema.Literal(1), alg: Schema.Literal("A256GCM"), nonce: Schema.String, ct: Schema.String }),
  Schema.Struct({ v: Schema.Literal(1), alg: Schema.Literal("none"), data: Schema.String }),
)
const decodeEnvelope = Schema.decodeUnknownEither(Schema.parseJson(Envelope))

const wrongKey = (message: string) => new StorageError({ reason: "WrongEncryptionKey", message })
const corrupt = (name: string) => new StorageError({ reason: "Corrupt", message: `Stored value "${name}" is damaged` })

const utf8 = new TextEncoder()

/** Right with the raw key bytes, or a typed error when the key has the wrong length. */
export const checkAtRestKey = (key: Redacted.Redacted<Uint8Array>): Either.Either<Uint8Array, StorageError> => {
  const bytes = Redacted.value(key)
  return bytes.length === AT_REST_KEY_LENGTH
    ? Either.right(bytes)
    : Either.left(wrongKey(`The at-rest key must be ${AT_REST_KEY_LENGTH} bytes`))
}

/** Seals `plaintext` under the value name; without a key the value is stored in the clear. */
export const seal = (
  key: Redacted.Redacted<Uint8Array> | undefined,
  name: string,
  plaintext: Uint8Array,
): Either.Either<string, StorageError> => {
  if (key === undefined) return Either.right(JSON.stringify({ v: 1, alg: "none", data: encodeBase64(plaintext) }))
  return Either.map(checkAtRestKey(key), (raw) => {
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
    const ct = gcm(raw, nonce, utf8.encode(name)).encrypt(plaintext)
    return JSON.stringify({ v: 1, alg: "A256GCM", nonce: encodeBase64(nonce), ct: encodeBase64(ct) })
  })
}

/** Opens a sealed value. A sealed value without a key, or a failed tag check, is "WrongEncryptionKey". */
export const open = (
  key: Redacted.Redacted<Uint8Array> | undefined,
  name: string,
  text: string,
): Either.Either<Uint8Array, StorageError> => {
  const envelope = decodeEnvelope(text)
  if (Either.isLeft(envelope)) return Either.left(corrupt(name))
  const value = envelope.right
  if (value.alg === "none") {
    const data = decodeBase64(value.data)
    return data === undefined ? Either.left(corrupt(name)) : Either.right(data)
  }
  if (key === undefined) return Either.left(wrongKey("The store is encrypted at rest and no key was given"))
  const nonce = decodeBase64(value.nonce)
  const ct = decodeBase64(value.ct)
  if (nonce === undefined || ct === undefined || nonce.length !== NONCE_LENGTH) return Either.left(corrupt(name))
  return Either.flatMap(checkAtRestKey(key), (raw) => {
    try {
      return Either.right(gcm(raw, nonce, utf8.encode(name)).decrypt(ct))
    } catch {
      return Either.left(wrongKey("The at-rest key does not open the stored secrets"))
    }
  })
}

/** True when a stored text is a sealed (encrypted) envelope. */
export const isSealed = (text: string): boolean => {
  const envelope = decodeEnvelope(text)
  return Either.isRight(envelope) && envelope.right.alg === "A256GCM"
}

/** Opens a value and wipes the plaintext after `use` has copied what it needs. */
export const openWith = <A>(
  key: Redacted.Redacted<Uint8Array> | undefined,
  name: string,
  text: string,
  use: (plaintext: Uint8Array) => Either.Either<A, StorageError>,
): Either.Either<A, StorageError> =>
  Either.flatMap(open(key, name, text), (plaintext) => {
    try {
      return use(plaintext)
    } finally {
      wipe(plaintext)
    }
  })
