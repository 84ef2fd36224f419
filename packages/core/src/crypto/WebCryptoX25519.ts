/**
 * X25519 and the symmetric steps of `m.megolm_backup.v1.curve25519-aes-sha2` on Web Crypto (`globalThis.crypto.subtle`),
 * as Promise-returning helpers for the Web Crypto `CryptoBackend` (PROTOCOL.md §3.3, §3.5; DESIGN.md §4).
 * https://w3c.github.io/webcrypto/#x25519
 */
import { Either } from "effect"
import { isAllZero, wipe } from "./Bytes.js"
import { BACKUP_MAC_LENGTH, BackupDecryptionError, type DecodedSessionData } from "./MegolmBackupV1.js"

const X25519 = { name: "X25519" } as const
/** PKCS#8 header of an X25519 private key (RFC 8410): the 32 raw bytes follow. Web Crypto cannot import raw private keys. */
const PKCS8_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20)
const BASEPOINT = Uint8Array.of(9, ...new Uint8Array(31))

const subtle = (): SubtleCrypto => globalThis.crypto.subtle

/** Imports a 32-byte X25519 private key for `deriveBits` (non-extractable). The temporary PKCS#8 buffer is wiped. */
export const importX25519PrivateKey = async (privateKey: Uint8Array): Promise<CryptoKey> => {
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32)
  pkcs8.set(PKCS8_PREFIX)
  pkcs8.set(privateKey, PKCS8_PREFIX.length)
  try {
    return await subtle().importKey("pkcs8", pkcs8, X25519, false, ["deriveBits"])
  } finally {
    wipe(pkcs8)
  }
}

/** Imports a raw 32-byte X25519 public key. */
export const importX25519PublicKey = (publicKey: Uint8Array): Promise<CryptoKey> =>
  subtle().importKey("raw", copy(publicKey), X25519, false, [])

/** Web Crypto's types want an ArrayBuffer-backed view; a copy gives one without a cast. */
const copy = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes)

/**
 * X25519 shared secret with Web Crypto, or `undefined` when the exchange is refused: implementations reject
 * low-order points (an all-zero result) with an OperationError, and an all-zero result is refused here too.
 */
export const deriveX25519 = async (privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array | undefined> => {
  let secret: Uint8Array
  try {
    secret = new Uint8Array(await subtle().deriveBits({ name: "X25519", public: publicKey }, privateKey, 256))
  } catch {
    return undefined
  }
  return isAllZero(secret) ? undefined : secret
}

/** X25519 shared secret with a raw public key; `undefined` for refused keys (see `deriveX25519`). */
export const deriveX25519Raw = async (privateKey: CryptoKey, publicKey: Uint8Array): Promise<Uint8Array | undefined> => {
  let key: CryptoKey
  try {
    key = await importX25519PublicKey(publicKey)
  } catch {
    return undefined
  }
  return deriveX25519(privateKey, key)
}

/**
 * A fresh X25519 key pair made by Web Crypto itself, with its raw public key. Importing caller-supplied private bytes
 * (PKCS#8) costs about ten times more in Node, so system-random ephemeral keys are made this way.
 */
export const generateX25519KeyPair = async (): Promise<{ readonly privateKey: CryptoKey; readonly publicKey: Uint8Array }> => {
  const pair = await subtle().generateKey(X25519, false, ["deriveBits"])
  if (!("privateKey" in pair)) throw new Error("X25519 generateKey did not return a key pair")
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle().exportKey("raw", pair.publicKey)) }
}

let basepoint: Promise<CryptoKey> | undefined
/** The public key of a private key, as X25519(priv, 9) through `deriveBits`. */
export const x25519PublicKeyOf = async (privateKey: CryptoKey): Promise<Uint8Array> => {
  basepoint ??= importX25519PublicKey(BASEPOINT)
  return new Uint8Array(await subtle().deriveBits({ name: "X25519", public: await basepoint }, privateKey, 256))
}

/**
 * True iff this runtime's Web Crypto does X25519 and gets the RFC 7748 §6.1 answer
 * (Alice's public key from her private key). Never throws.
 */
export const x25519Supported = async (): Promise<boolean> => {
  try {
    if (globalThis.crypto?.subtle === undefined) return false
    const alice = Uint8Array.from([
      0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
      0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
    ])
    const pub = await x25519PublicKeyOf(await importX25519PrivateKey(alice))
    return pub[0] === 0x85 && pub[1] === 0x20 && pub[31] === 0x6a
  } catch {
    return false
  }
}

/**
 * Steps 3–4 of decryption entirely in Web Crypto: HKDF, HMAC (empty message, truncated) and AES-256-CBC.
 * Slower than the synchronous `@noble` path for small plaintexts (more promises); kept for measurement.
 */
export const decryptWithSharedSecretSubtle = async (
  secret: Uint8Array,
  data: DecodedSessionData,
): Promise<Either.Either<Uint8Array, BackupDecryptionError>> => {
  const s = subtle()
  const ikm = await s.importKey("raw", copy(secret), "HKDF", false, ["deriveBits"])
  const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new Uint8Array(0) }
  const okm = new Uint8Array(await s.deriveBits(params, ikm, 640))
  try {
    const macKey = await s.importKey("raw", okm.subarray(32, 64), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    // Known flaw (spec): v1 MACs the empty string, not the ciphertext. Kept for compatibility.
    const mac = new Uint8Array(await s.sign("HMAC", macKey, new Uint8Array(0))).subarray(0, BACKUP_MAC_LENGTH)
    let diff = 0
    for (let i = 0; i < BACKUP_MAC_LENGTH; i++) diff |= (mac[i] ?? 0) ^ (data.mac[i] ?? 0)
    if (diff !== 0) return Either.left(new BackupDecryptionError({ reason: "BadMac" }))
    const aesKey = await s.importKey("raw", okm.subarray(0, 32), "AES-CBC", false, ["decrypt"])
    try {
      return Either.right(new Uint8Array(await s.decrypt({ name: "AES-CBC", iv: okm.subarray(64, 80) }, aesKey, copy(data.ciphertext))))
    } catch {
      return Either.left(new BackupDecryptionError({ reason: "BadPadding" }))
    }
  } finally {
    wipe(okm)
  }
}
