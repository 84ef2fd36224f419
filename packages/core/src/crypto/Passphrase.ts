/**
 * Keys from passphrases: PBKDF2-HMAC-SHA-512 over the UTF-8 passphrase and the UTF-8 salt *string*
 * (not base64-decoded), for `m.pbkdf2` 4S keys and legacy `private_key_salt` backup keys (PROTOCOL.md §5.3, §5.4).
 * https://spec.matrix.org/v1.16/client-server-api/#deriving-keys-from-passphrases
 */
import { pbkdf2 } from "@noble/hashes/pbkdf2.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { utf8Encode } from "./Bytes.js"

/** The `passphrase.algorithm` of a 4S key description. */
export const PBKDF2_ALGORITHM = "m.pbkdf2"
/** Iterations both SDKs use when creating keys. */
export const DEFAULT_PBKDF2_ITERATIONS = 500_000
/** Default derived key size in bits. */
export const DEFAULT_PBKDF2_BITS = 256
/** Length of generated salts and key IDs. */
export const RANDOM_STRING_LENGTH = 32

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** Salt as PBKDF2 input: a string is used as its UTF-8 bytes (the Matrix convention), bytes as given. */
export const saltBytes = (salt: string | Uint8Array): Uint8Array => (typeof salt === "string" ? utf8Encode(salt) : salt)

/** Synchronous PBKDF2-HMAC-SHA-512 (@noble). Slow at 500k rounds; backends offer a Web Crypto version. */
export const deriveKeyFromPassphraseSync = (
  passphrase: string,
  salt: string | Uint8Array,
  iterations: number,
  bits: number = DEFAULT_PBKDF2_BITS,
): Uint8Array => {
  checkParameters(iterations, bits)
  return pbkdf2(sha512, utf8Encode(passphrase), saltBytes(salt), { c: iterations, dkLen: bits / 8 })
}

/** Throws on parameters no caller should pass (validate untrusted `iterations`/`bits` before). */
export const checkParameters = (iterations: number, bits: number): void => {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError("PBKDF2 iterations must be a positive integer")
  if (!Number.isSafeInteger(bits) || bits < 8 || bits % 8 !== 0) throw new RangeError("PBKDF2 bits must be a positive multiple of 8")
}

/** Random bytes needed for one 32-character string (two per character). */
export const RANDOM_BYTES_FOR_STRING = 2 * RANDOM_STRING_LENGTH

/**
 * A `[A-Za-z0-9]` string from random bytes (salts, 4S key IDs): each character takes two bytes,
 * reduced mod 62 from 16 bits, so the bias is at most 2^-15 per character.
 */
export const alphanumericFromRandomBytes = (randomBytes: Uint8Array, length: number = RANDOM_STRING_LENGTH): string => {
  if (randomBytes.length < 2 * length) throw new RangeError(`Need ${2 * length} random bytes, got ${randomBytes.length}`)
  let out = ""
  for (let i = 0; i < length; i++) {
    const value = ((randomBytes[2 * i] ?? 0) << 8) | (randomBytes[2 * i + 1] ?? 0)
    out += ALPHANUMERIC[value % ALPHANUMERIC.length]
  }
  return out
}

/** A fresh PBKDF2 salt (32 alphanumeric characters) from `RANDOM_BYTES_FOR_STRING` random bytes. */
export const generateSalt = (randomBytes: Uint8Array): string => alphanumericFromRandomBytes(randomBytes)

/** A fresh 4S key ID (32 alphanumeric characters) from `RANDOM_BYTES_FOR_STRING` random bytes. */
export const generateKeyId = (randomBytes: Uint8Array): string => alphanumericFromRandomBytes(randomBytes)
