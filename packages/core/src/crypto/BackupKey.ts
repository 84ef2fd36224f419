/**
 * The backup decryption key of `m.megolm_backup.v1.curve25519-aes-sha2` (PROTOCOL.md §3.2, §6.5): its public key,
 * whether it belongs to a backup version, and its 4S secret form (`m.megolm_backup.v1`, base64 of the 32 bytes).
 */
import { Either } from "effect"
import { decodeBase64OfLength, encodeBase64 } from "../schema/Base64.js"
import { type KeyBackupInfo, MEGOLM_BACKUP_V1_CURVE25519 } from "../schema/BackupInfo.js"
import { constantTimeEqual, wipe } from "./Bytes.js"
import { CURVE25519_KEY_LENGTH, publicKeyFromPrivateKey, publicKeyFromPrivateKeyOnce } from "./Curve25519.js"

/** Bytes of a backup private key (an X25519 scalar) and of its public key. */
export const BACKUP_KEY_LENGTH = CURVE25519_KEY_LENGTH

/** The backup's `auth_data.public_key` for `privateKey`; throws RangeError unless it is 32 bytes (a caller bug). */
export const backupPublicKey = (privateKey: Uint8Array): Uint8Array => publicKeyFromPrivateKey(privateKey)

/**
 * True when `privateKey` is the private half of `publicKey`. Compares bytes in constant time (the public key
 * is public, but the derived one should not leak through timing either); a wrong length of either is false.
 */
export const isBackupKeyFor = (privateKey: Uint8Array, publicKey: Uint8Array): boolean => {
  if (privateKey.length !== BACKUP_KEY_LENGTH || publicKey.length !== BACKUP_KEY_LENGTH) return false
  // Checked once per key read: the ladder, so a command's first check does not build the base-point table.
  const derived = publicKeyFromPrivateKeyOnce(privateKey)
  try {
    return constantTimeEqual(derived, publicKey)
  } finally {
    wipe(derived)
  }
}

/** Whether `privateKey` belongs to the backup `info`; Left when the backup is not curve25519 (nothing to compare). */
export const matchesBackup = (privateKey: Uint8Array, info: KeyBackupInfo): Either.Either<boolean, "UnsupportedAlgorithm"> =>
  info.algorithm === MEGOLM_BACKUP_V1_CURVE25519 && info.auth_data._tag === "Curve25519"
    ? Either.right(isBackupKeyFor(privateKey, info.auth_data.public_key))
    : Either.left("UnsupportedAlgorithm")

/** The 4S secret text of a backup key: unpadded base64 of its 32 bytes. */
export const encodeBackupKeySecret = (privateKey: Uint8Array): string => encodeBase64(privateKey)

/** Reads the 4S secret (padded or unpadded base64, surrounding blanks ignored); Left says why it is not a 32-byte key. */
export const decodeBackupKeySecret = (secret: string): Either.Either<Uint8Array, string> =>
  decodeBase64OfLength(secret.trim(), BACKUP_KEY_LENGTH)
