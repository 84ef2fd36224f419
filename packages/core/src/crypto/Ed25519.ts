/**
 * Ed25519 for Matrix JSON signatures (device keys, cross-signing keys, backup `auth_data`), via @noble/curves.
 * https://spec.matrix.org/v1.16/appendices/#signing-json
 */
import { ed25519 } from "@noble/curves/ed25519.js"

/** Length of an Ed25519 seed (the private key as Matrix stores it). */
export const ED25519_SEED_LENGTH = 32
/** Length of an Ed25519 public key. */
export const ED25519_PUBLIC_KEY_LENGTH = 32
/** Length of an Ed25519 signature. */
export const ED25519_SIGNATURE_LENGTH = 64

/** The public key of a 32-byte seed (what Matrix calls the Ed25519 private key). */
export const ed25519PublicKeyFromSeed = (seed: Uint8Array): Uint8Array => {
  if (seed.length !== ED25519_SEED_LENGTH) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`)
  return ed25519.getPublicKey(seed)
}

/** Signs bytes (deterministic, RFC 8032). */
export const ed25519Sign = (message: Uint8Array, seed: Uint8Array): Uint8Array => {
  if (seed.length !== ED25519_SEED_LENGTH) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`)
  return ed25519.sign(message, seed)
}

/**
 * Verifies a signature with RFC 8032 rules (canonical S and encodings, cofactorless, no ZIP-215 leniency), as
 * vodozemac's default (ed25519-dalek `verify`); honest signatures verify everywhere. Never throws.
 */
export const ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean => {
  if (signature.length !== ED25519_SIGNATURE_LENGTH || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}
