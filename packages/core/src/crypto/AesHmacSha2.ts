/**
 * `m.secret_storage.v1.aes-hmac-sha2`: 4S secret encryption and the key check (PROTOCOL.md §6.3, §6.4).
 * https://spec.matrix.org/v1.16/client-server-api/#msecret_storagev1aes-hmac-sha2
 */
import { ctr } from "@noble/ciphers/aes.js"
import { hkdf } from "@noble/hashes/hkdf.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { Data, Either } from "effect"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"
import { constantTimeEqual, utf8Decode, utf8Encode, wipe } from "./Bytes.js"

/** IV length in bytes. */
export const SECRET_STORAGE_IV_LENGTH = 16
/** MAC length in bytes (full HMAC-SHA-256). */
export const SECRET_STORAGE_MAC_LENGTH = 32

/** One encrypted secret under one key, as stored in account data: base64 fields. */
export type EncryptedSecret = { readonly iv: string; readonly ciphertext: string; readonly mac: string }
/** What a key description carries to check a candidate key. */
export type KeyCheck = { readonly iv: string; readonly mac: string }

/** Why a secret could not be decrypted. Carries no key material or plaintext. */
export class SecretStorageCryptoError extends Data.TaggedError("SecretStorageCryptoError")<{
  readonly reason: "BadBase64" | "BadLength" | "BadMac" | "BadUtf8"
  readonly field?: "iv" | "ciphertext" | "mac"
}> {}

const HKDF_SALT = new Uint8Array(32)
const KEY_CHECK_PLAINTEXT = new Uint8Array(32)

/** Step 1: HKDF-SHA-256(K, salt = 32 zero bytes, info = UTF-8(name), L = 64) split 32/32. */
const deriveKeys = (key: Uint8Array, name: string): { aesKey: Uint8Array; hmacKey: Uint8Array } => {
  if (key.length !== 32) throw new RangeError(`4S key must be 32 bytes, got ${key.length}`)
  const okm = hkdf(sha256, key, HKDF_SALT, utf8Encode(name), 64)
  return { aesKey: okm.subarray(0, 32), hmacKey: okm.subarray(32, 64) }
}

/**
 * Step 2: a copy of the IV with bit 63 (the top bit of byte 8) cleared, so a 64-bit counter
 * (Web Crypto `length: 64`) and a 128-bit one (Rust, Android) agree.
 */
export const clearIvBit63 = (iv: Uint8Array): Uint8Array => {
  if (iv.length !== SECRET_STORAGE_IV_LENGTH) throw new RangeError(`4S IV must be 16 bytes, got ${iv.length}`)
  const out = iv.slice()
  out[8] = (out[8] ?? 0) & 0x7f
  return out
}

/** Encrypts bytes: AES-256-CTR (128-bit big-endian counter) then HMAC-SHA-256 over the ciphertext. */
const encryptBytes = (key: Uint8Array, name: string, plaintext: Uint8Array, iv16: Uint8Array) => {
  const iv = clearIvBit63(iv16)
  const { aesKey, hmacKey } = deriveKeys(key, name)
  const ciphertext = ctr(aesKey, iv).encrypt(plaintext)
  const mac = hmac(sha256, hmacKey, ciphertext)
  wipe(aesKey)
  wipe(hmacKey)
  return { iv, ciphertext, mac }
}

/** Encrypts a secret string under a 4S key (§6.4). `iv16` is 16 random bytes; bit 63 is cleared here. */
export const encryptSecret = (key: Uint8Array, secretName: string, secret: string, iv16: Uint8Array): EncryptedSecret => {
  const out = encryptBytes(key, secretName, utf8Encode(secret), iv16)
  return { iv: encodeBase64(out.iv), ciphertext: encodeBase64(out.ciphertext), mac: encodeBase64(out.mac) }
}

/** Decrypts a secret (§6.4): checks the MAC over the ciphertext first, then AES-CTR, then strict UTF-8. */
export const decryptSecret = (
  key: Uint8Array,
  secretName: string,
  encrypted: EncryptedSecret,
): Either.Either<string, SecretStorageCryptoError> => {
  const iv = decodeBase64(encrypted.iv)
  if (iv === undefined) return fail("BadBase64", "iv")
  const ciphertext = decodeBase64(encrypted.ciphertext)
  if (ciphertext === undefined) return fail("BadBase64", "ciphertext")
  const mac = decodeBase64(encrypted.mac)
  if (mac === undefined) return fail("BadBase64", "mac")
  if (iv.length !== SECRET_STORAGE_IV_LENGTH) return fail("BadLength", "iv")
  const { aesKey, hmacKey } = deriveKeys(key, secretName)
  try {
    if (!constantTimeEqual(hmac(sha256, hmacKey, ciphertext), mac)) return fail("BadMac", "mac")
    const plaintext = ctr(aesKey, iv).decrypt(ciphertext)
    const text = utf8Decode(plaintext)
    wipe(plaintext)
    return Either.isRight(text) ? Either.right(text.right) : fail("BadUtf8")
  } finally {
    wipe(aesKey)
    wipe(hmacKey)
  }
}

/** The key check stored in a key description (§6.3): encrypt 32 zero bytes with name "" and keep iv + mac. */
export const calculateKeyCheck = (key: Uint8Array, iv16: Uint8Array): KeyCheck => {
  const out = encryptBytes(key, "", KEY_CHECK_PLAINTEXT, iv16)
  return { iv: encodeBase64(out.iv), mac: encodeBase64(out.mac) }
}

/** True iff `key` matches the description's `iv`/`mac` (padded or unpadded base64; IV 16 and MAC 32 bytes). */
export const checkKey = (key: Uint8Array, check: KeyCheck): boolean => {
  const iv = decodeBase64(check.iv)
  const mac = decodeBase64(check.mac)
  if (iv === undefined || mac === undefined) return false
  if (iv.length !== SECRET_STORAGE_IV_LENGTH || mac.length !== SECRET_STORAGE_MAC_LENGTH) return false
  // The stored IV is used as is: it was cleared when generated, and clearing again would change nothing for valid ones.
  const { aesKey, hmacKey } = deriveKeys(key, "")
  const ciphertext = ctr(aesKey, iv).encrypt(KEY_CHECK_PLAINTEXT)
  const expected = hmac(sha256, hmacKey, ciphertext)
  wipe(aesKey)
  wipe(hmacKey)
  return constantTimeEqual(expected, mac)
}

const fail = (
  reason: SecretStorageCryptoError["reason"],
  field?: SecretStorageCryptoError["field"],
): Either.Either<never, SecretStorageCryptoError> =>
  Either.left(new SecretStorageCryptoError(field === undefined ? { reason } : { reason, field }))
