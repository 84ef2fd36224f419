/**
 * `m.megolm_backup.v1.curve25519-aes-sha2`: X25519 + HKDF-SHA-256 + AES-256-CBC + truncated HMAC (PROTOCOL.md §3.3–§3.5).
 * https://spec.matrix.org/v1.16/client-server-api/#backup-algorithm-mmegolm_backupv1curve25519-aes-sha2
 */
import { cbc } from "@noble/ciphers/aes.js"
import { Data, Either } from "effect"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"
import { constantTimeEqual, wipe } from "./Bytes.js"
import { HMAC_SHA256_LENGTH, HmacSha256 } from "./HmacSha256.js"
import { CURVE25519_KEY_LENGTH, publicKeyFromPrivateKey, sharedSecret } from "./Curve25519.js"

/** Bytes of the (truncated) backup MAC. */
export const BACKUP_MAC_LENGTH = 8

/** `session_data` of a backed-up session: all unpadded base64. */
export type SessionData = { readonly ephemeral: string; readonly ciphertext: string; readonly mac: string }

/** `session_data` with its base64 decoded and lengths checked. */
export type DecodedSessionData = {
  readonly ephemeral: Uint8Array
  readonly ciphertext: Uint8Array
  readonly mac: Uint8Array
}

/** Why one backed-up session could not be decrypted. Carries no key material. */
export class BackupDecryptionError extends Data.TaggedError("BackupDecryptionError")<{
  readonly reason: "BadBase64" | "BadLength" | "WeakSharedSecret" | "BadMac" | "BadPadding"
  readonly field?: "ephemeral" | "ciphertext" | "mac"
}> {}

/** The three values HKDF derives from the shared secret (step 3). */
export type BackupKeys = { readonly aesKey: Uint8Array; readonly macKey: Uint8Array; readonly iv: Uint8Array }

const EMPTY = new Uint8Array(0)
/** HKDF-Extract's HMAC keyed with the salt, 32 zero bytes: a public constant, so it is keyed once. */
const extract = new HmacSha256().setKey(new Uint8Array(32))
/** HKDF-Expand's and the MAC's HMAC, re-keyed per use (all uses are synchronous). */
const prf = new HmacSha256()
const prk = new Uint8Array(HMAC_SHA256_LENGTH)
const HKDF_COUNTERS = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)] as const

/**
 * Step 3: HKDF-SHA-256(S, salt = 32 zero bytes, info = "", L = 80) split 32/32/16 (RFC 5869: PRK = HMAC(salt, S),
 * T(n) = HMAC(PRK, T(n-1) ‖ n), three blocks). Written over `HmacSha256` rather than noble's `hkdf` because this
 * runs once per session and noble's allocations doubled its cost; the tests compare it with Web Crypto's HKDF.
 */
export const deriveBackupKeys = (secret: Uint8Array): BackupKeys => {
  const okm = new Uint8Array(3 * HMAC_SHA256_LENGTH)
  const t1 = okm.subarray(0, 32)
  const t2 = okm.subarray(32, 64)
  const t3 = okm.subarray(64, 96)
  extract.macInto(prk, secret)
  extract.clearMessage()
  prf.setKey(prk)
  prk.fill(0)
  prf.macInto(t1, HKDF_COUNTERS[0])
  prf.macInto(t2, t1, HKDF_COUNTERS[1])
  prf.macInto(t3, t2, HKDF_COUNTERS[2])
  prf.wipe()
  okm.fill(0, 80) // T(3)'s last 16 bytes are not part of L = 80
  return { aesKey: t1, macKey: t2, iv: okm.subarray(64, 80) }
}

/** Zeroes derived keys once they are no longer needed. */
export const wipeBackupKeys = (keys: BackupKeys): void => {
  wipe(keys.aesKey)
  wipe(keys.macKey)
  wipe(keys.iv)
}

/**
 * Step 5: the v1 MAC.
 * Known flaw (spec): v1 MACs the empty string, not the ciphertext (libolm's PK encryption bug, MSC4048).
 * Kept for compatibility: every deployed client emits and expects exactly this.
 */
export const backupMac = (macKey: Uint8Array): Uint8Array => {
  const out = new Uint8Array(HMAC_SHA256_LENGTH)
  prf.setKey(macKey).macInto(out, EMPTY)
  prf.wipe()
  return out.subarray(0, BACKUP_MAC_LENGTH)
}

/** Decodes the three base64 fields and checks their lengths (32-byte key, 8-byte MAC, whole AES blocks). */
export const decodeSessionData = (data: SessionData): Either.Either<DecodedSessionData, BackupDecryptionError> => {
  const ephemeral = decodeBase64(data.ephemeral)
  if (ephemeral === undefined) return bad("BadBase64", "ephemeral")
  const mac = decodeBase64(data.mac)
  if (mac === undefined) return bad("BadBase64", "mac")
  const ciphertext = decodeBase64(data.ciphertext)
  if (ciphertext === undefined) return bad("BadBase64", "ciphertext")
  if (ephemeral.length !== CURVE25519_KEY_LENGTH) return bad("BadLength", "ephemeral")
  if (mac.length !== BACKUP_MAC_LENGTH) return bad("BadLength", "mac")
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) return bad("BadLength", "ciphertext")
  return Either.right({ ephemeral, ciphertext, mac })
}

/** Steps 2–4 of decryption given the X25519 shared secret: derive, verify the MAC first, then decrypt and unpad. */
export const decryptWithSharedSecret = (
  secret: Uint8Array,
  data: DecodedSessionData,
): Either.Either<Uint8Array, BackupDecryptionError> => {
  const keys = deriveBackupKeys(secret)
  try {
    if (!constantTimeEqual(backupMac(keys.macKey), data.mac)) return bad("BadMac")
    try {
      return Either.right(cbc(keys.aesKey, keys.iv).decrypt(data.ciphertext))
    } catch {
      return bad("BadPadding")
    }
  } finally {
    wipeBackupKeys(keys)
  }
}

/** Decrypts one `session_data` with the backup private key (§3.5). Never throws for bad input. */
export const decryptSessionData = (
  privateKey: Uint8Array,
  data: SessionData,
): Either.Either<Uint8Array, BackupDecryptionError> =>
  Either.flatMap(decodeSessionData(data), (decoded) => {
    const secret = sharedSecret(privateKey, decoded.ephemeral)
    if (secret === undefined) return bad("WeakSharedSecret", "ephemeral")
    try {
      return decryptWithSharedSecret(secret, decoded)
    } finally {
      wipe(secret)
    }
  })

/** Steps 3–6 of encryption given the shared secret and the ephemeral public key. */
export const encryptWithSharedSecret = (
  secret: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  plaintext: Uint8Array,
): SessionData => {
  const keys = deriveBackupKeys(secret)
  const ciphertext = cbc(keys.aesKey, keys.iv).encrypt(plaintext)
  const mac = backupMac(keys.macKey)
  wipeBackupKeys(keys)
  return { ephemeral: encodeBase64(ephemeralPublicKey), ciphertext: encodeBase64(ciphertext), mac: encodeBase64(mac) }
}

/**
 * Encrypts one plaintext to the backup public key (§3.3). The caller supplies a fresh random
 * ephemeral private key for every session (randomness comes from the Entropy port).
 */
export const encryptSessionData = (
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  ephemeralPrivateKey: Uint8Array,
): SessionData => {
  const secret = sharedSecret(ephemeralPrivateKey, publicKey)
  // A low-order backup public key cannot be encrypted to; callers validate public keys first.
  if (secret === undefined) throw new RangeError("Backup public key is not a usable X25519 key")
  try {
    return encryptWithSharedSecret(secret, publicKeyFromPrivateKey(ephemeralPrivateKey), plaintext)
  } finally {
    wipe(secret)
  }
}

/** True iff the bytes are a usable X25519 public key (32 bytes, not of low order). */
export const isUsablePublicKey = (publicKey: Uint8Array): boolean => {
  if (publicKey.length !== CURVE25519_KEY_LENGTH) return false
  return sharedSecret(PROBE_SCALAR, publicKey) !== undefined
}

const PROBE_SCALAR = new Uint8Array(32).fill(0x55)

const bad = (
  reason: BackupDecryptionError["reason"],
  field?: BackupDecryptionError["field"],
): Either.Either<never, BackupDecryptionError> =>
  Either.left(new BackupDecryptionError(field === undefined ? { reason } : { reason, field }))
