/**
 * A `CryptoBackend` over `node:crypto` (OpenSSL), for Node only: synchronous X25519, HKDF, HMAC and AES-CBC with no
 * promise or `CryptoKey` overhead per session. It classifies every failure exactly as core's @noble functions do
 * (PROTOCOL.md §3.3–§3.5); DESIGN.md §4 explains why this lives outside the portable core.
 */
import { CryptoBackend, Entropy, MegolmBackupV1, Passphrase } from "@matrix-backup/core"
import { Bytes, Chunks } from "@matrix-backup/core/adapter"
import { Effect, Either, Layer, Redacted } from "effect"
import type { Context } from "effect"
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  pbkdf2,
  timingSafeEqual,
} from "node:crypto"
import type { KeyObject } from "node:crypto"

type Service = Context.Tag.Service<CryptoBackend.CryptoBackend>
type SessionData = MegolmBackupV1.SessionData
type Result = Either.Either<Uint8Array, MegolmBackupV1.BackupDecryptionError>

const HKDF_SALT = Buffer.alloc(32)
const EMPTY = Buffer.alloc(0)
/** PKCS#8 DER prefix of a raw 32-byte X25519 private key (RFC 8410). */
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex")
/** Items per synchronous chunk: a long batch yields to the scheduler between chunks and stays interruptible. */
const CHUNK = 64

const bad = (reason: MegolmBackupV1.BackupDecryptionError["reason"], field?: "ephemeral"): Result =>
  Either.left(new MegolmBackupV1.BackupDecryptionError(field === undefined ? { reason } : { reason, field }))

/** A raw X25519 public key as a KeyObject. JWK is the cheapest raw import in Node (DESIGN.md §4). */
const publicKeyObject = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("base64url") }, format: "jwk" })

const privateKeyObject = (raw: Uint8Array): KeyObject => {
  const der = Buffer.concat([PKCS8_X25519_PREFIX, raw])
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
  } finally {
    der.fill(0)
  }
}

/**
 * X25519 with a KeyObject or raw public key, or `undefined` where core's `sharedSecret` refuses: OpenSSL rejects
 * the all-zero (low-order) result.
 */
const x25519 = (privateKey: KeyObject, publicKey: KeyObject | Uint8Array): Buffer | undefined => {
  try {
    const secret = diffieHellman({ privateKey, publicKey: publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey })
    return Bytes.isAllZero(secret) ? undefined : secret
  } catch {
    return undefined
  }
}

/** HKDF-SHA-256(secret, 32 zero bytes, "", 80) as AES key ‖ MAC key ‖ IV. */
const deriveKeys = (secret: Buffer): Buffer => Buffer.from(hkdfSync("sha256", secret, HKDF_SALT, EMPTY, 80))

/** The v1 MAC: HMAC-SHA-256 of the empty string (the libolm quirk, see core's `backupMac`), truncated. */
const mac = (okm: Buffer): Buffer =>
  createHmac("sha256", okm.subarray(32, 64)).update(EMPTY).digest().subarray(0, MegolmBackupV1.BACKUP_MAC_LENGTH)

const decryptOne = (privateKey: KeyObject, item: SessionData): Result => {
  // Core's decoder: a lookup table, faster than a pattern check plus Node's decoder, and the same rules by construction.
  const decoded = MegolmBackupV1.decodeSessionData(item)
  if (Either.isLeft(decoded)) return Either.left(decoded.left)
  const { ephemeral, ciphertext } = decoded.right
  const secret = x25519(privateKey, ephemeral)
  if (secret === undefined) return bad("WeakSharedSecret", "ephemeral")
  const okm = deriveKeys(secret)
  secret.fill(0)
  try {
    if (!timingSafeEqual(mac(okm), decoded.right.mac)) return bad("BadMac")
    const decipher = createDecipheriv("aes-256-cbc", okm.subarray(0, 32), okm.subarray(64, 80))
    const head = decipher.update(ciphertext)
    try {
      const tail = decipher.final()
      // A plaintext of its own exact size: Node's small Buffers are views into shared 8 KB slabs, and posting
      // such a view to another thread would copy the whole slab.
      const plaintext = new Uint8Array(head.length + tail.length)
      plaintext.set(head)
      plaintext.set(tail, head.length)
      tail.fill(0)
      return Either.right(plaintext)
    } catch {
      return bad("BadPadding")
    } finally {
      head.fill(0)
    }
  } finally {
    okm.fill(0)
  }
}

/** Matrix's unpadded base64, with Node's encoder (faster than core's portable one on this hot path). */
const unpaddedBase64 = (bytes: Buffer): string => bytes.toString("base64").replace(/=+$/, "")

const encryptOne = (recipient: KeyObject, ephemeral: { privateKey: KeyObject; publicKey: KeyObject }, plaintext: Uint8Array): SessionData => {
  const secret = x25519(ephemeral.privateKey, recipient)
  // Callers validate backup public keys; a refused exchange here is a bug upstream, so it dies.
  if (secret === undefined) throw new Error("Backup public key is not a usable X25519 key")
  const okm = deriveKeys(secret)
  secret.fill(0)
  try {
    const cipher = createCipheriv("aes-256-cbc", okm.subarray(0, 32), okm.subarray(64, 80))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const jwk = ephemeral.publicKey.export({ format: "jwk" })
    return { ephemeral: unpaddedBase64(Buffer.from(jwk.x ?? "", "base64url")), ciphertext: unpaddedBase64(ciphertext), mac: unpaddedBase64(mac(okm)) }
  } finally {
    okm.fill(0)
  }
}

/**
 * Ephemeral key pairs: OpenSSL's own generator with system entropy; with seeded Entropy every private key is
 * imported from its bytes so results are reproducible.
 */
const ephemeralKeyPairs = (entropy: Context.Tag.Service<Entropy.Entropy>, count: number) =>
  entropy.source === "system"
    ? Effect.succeed((_: number) => generateKeyPairSync("x25519"))
    : Effect.map(entropy.randomBytes(32 * count), (bytes) => (i: number) => {
        const raw = bytes.subarray(32 * i, 32 * i + 32)
        const privateKey = privateKeyObject(raw)
        raw.fill(0)
        return { privateKey, publicKey: createPublicKey(privateKey) }
      })

/**
 * The backup private key as a KeyObject, imported once per distinct key rather than once per batch (a restore
 * sends thousands of batches with the same key). Holds only the latest key, inside OpenSSL.
 */
const privateKeyCache = () => {
  let last: { readonly raw: Buffer; readonly key: KeyObject } | undefined
  return (raw: Uint8Array): KeyObject => {
    if (last !== undefined && last.raw.length === raw.length && timingSafeEqual(last.raw, raw)) return last.key
    last?.raw.fill(0)
    last = { raw: Buffer.from(raw), key: privateKeyObject(raw) }
    return last.key
  }
}

/** The node:crypto backend (`name: "node"`). */
export const make = (entropy: Context.Tag.Service<Entropy.Entropy>): Service => {
  const privateKeyOf = privateKeyCache()
  return {
    name: "node",
    decryptSessions: (privateKey, items) =>
      Effect.suspend(() => {
        if (items.length === 0) return Effect.succeed([])
        const key = privateKeyOf(Redacted.value(privateKey))
        return Chunks.inChunks(items, CHUNK, (item) => decryptOne(key, item))
      }),
    encryptSessions: (publicKey, plaintexts) =>
      Effect.flatMap(ephemeralKeyPairs(entropy, plaintexts.length), (ephemeralKeyPair) =>
        Effect.suspend(() => {
          const recipient = publicKeyObject(publicKey)
          return Chunks.inChunks(plaintexts, CHUNK, (plaintext, i) => encryptOne(recipient, ephemeralKeyPair(i), plaintext))
        }),
      ),
    pbkdf2Sha512: (passphrase, salt, iterations, bits) =>
      Effect.suspend(() => {
        // Untrusted parameters are validated by callers; a bad value here is a caller bug and dies, as in core.
        Passphrase.checkParameters(iterations, bits)
        return Effect.async<Redacted.Redacted<Uint8Array>>((resume) => {
          const password = Buffer.from(Redacted.value(passphrase), "utf8")
          const saltBytes = typeof salt === "string" ? Buffer.from(salt, "utf8") : salt
          pbkdf2(password, saltBytes, iterations, bits / 8, "sha512", (error, key) => {
            password.fill(0)
            if (error !== null) return resume(Effect.die(error))
            const out = new Uint8Array(key)
            key.fill(0)
            resume(Effect.succeed(Redacted.make(out)))
          })
        })
      }),
  }
}

/** The node:crypto backend, drawing ephemeral keys as the given Entropy says. */
export const layer: Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy> = Layer.effect(
  CryptoBackend.CryptoBackend,
  Effect.map(Entropy.Entropy, make),
)
