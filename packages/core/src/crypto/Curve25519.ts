/**
 * X25519 keys for `m.megolm_backup.v1.curve25519-aes-sha2` (PROTOCOL.md §3.2; RFC 7748).
 * https://spec.matrix.org/v1.16/client-server-api/#backup-algorithm-mmegolm_backupv1curve25519-aes-sha2
 */
import { x25519 } from "@noble/curves/ed25519.js"
import { isAllZero as isAllZeroBytes } from "./Bytes.js"

/** Length of X25519 private keys, public keys and shared secrets. */
export const CURVE25519_KEY_LENGTH = 32

/**
 * X25519(priv, 9): the backup public key. The scalar is used as stored; X25519 clamps internally,
 * so keys are never pre-clamped (PROTOCOL.md §3.2).
 */
export const publicKeyFromPrivateKey = (privateKey: Uint8Array): Uint8Array => {
  assertKeyLength(privateKey, "private key")
  return x25519.getPublicKey(privateKey)
}

/**
 * The same X25519(priv, 9) by the Montgomery ladder: about 2 ms from a cold start, where `publicKeyFromPrivateKey`
 * first builds a base-point table (tens of ms) that pays off only over many keys. For one-off checks of a key.
 */
export const publicKeyFromPrivateKeyOnce = (privateKey: Uint8Array): Uint8Array => {
  assertKeyLength(privateKey, "private key")
  return x25519.scalarMult(privateKey, x25519.GuBytes)
}

/**
 * X25519 shared secret, or `undefined` for a low-order public key or an all-zero result
 * (a non-contributory exchange, which vodozemac also refuses).
 */
export const sharedSecret = (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined => {
  assertKeyLength(privateKey, "private key")
  if (publicKey.length !== CURVE25519_KEY_LENGTH) return undefined
  let secret: Uint8Array
  try {
    secret = x25519.getSharedSecret(privateKey, publicKey)
  } catch {
    return undefined
  }
  return isAllZeroBytes(secret) ? undefined : secret
}

/** True iff every byte is zero: an all-zero X25519 output means a non-contributory exchange. */
export const isAllZero = isAllZeroBytes

const assertKeyLength = (key: Uint8Array, what: string): void => {
  // A wrong length here is a caller bug (keys are decoded and length-checked at the boundary).
  if (key.length !== CURVE25519_KEY_LENGTH) throw new RangeError(`X25519 ${what} must be 32 bytes, got ${key.length}`)
}
