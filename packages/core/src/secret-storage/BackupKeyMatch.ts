/**
 * Does a backup decryption key belong to a backup version? For `m.megolm_backup.v1.curve25519-aes-sha2` the key's
 * X25519 public key must equal `auth_data.public_key` (PROTOCOL.md §3.2, §6.5). Also decodes the 4S form of the key.
 */
import { Either, Redacted } from "effect"
import { constantTimeEqual } from "../crypto/Bytes.js"
import { publicKeyFromPrivateKey } from "../crypto/Curve25519.js"
import { decodeBase64OfLength } from "../schema/Base64.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { RecoveryError } from "./RecoveryError.js"

/** Whether the key matches the backup; Left when the backup's algorithm (or auth_data) cannot be checked. */
export const decryptionKeyMatches = (key: Redacted.Redacted<Uint8Array>, info: KeyBackupInfo): Either.Either<boolean, RecoveryError> => {
  const authData = info.auth_data
  if (authData._tag !== "Curve25519") {
    return Either.left(new RecoveryError({ reason: "UnsupportedBackupAlgorithm", detail: info.algorithm }))
  }
  const bytes = Redacted.value(key)
  if (bytes.length !== 32) return Either.right(false)
  return Either.right(constantTimeEqual(publicKeyFromPrivateKey(bytes), authData.public_key))
}

/** The 4S secret `m.megolm_backup.v1` (base64 of 32 bytes, padded or not) as key bytes. */
export const decodeBackupKeySecret = (secret: Redacted.Redacted<string>): Either.Either<Redacted.Redacted<Uint8Array>, RecoveryError> =>
  Either.match(decodeBase64OfLength(Redacted.value(secret).trim(), 32), {
    onLeft: (why) => Either.left(new RecoveryError({ reason: "MalformedBackupKey", detail: why })),
    onRight: (bytes) => Either.right(Redacted.make(bytes)),
  })
