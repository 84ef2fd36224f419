/**
 * CryptoBackend port: batch encryption/decryption of backed-up sessions and PBKDF2, so callers amortise promise
 * overhead. Core's two implementations give identical results: Web Crypto (fast where X25519 is native) and `@noble`
 * (portable); @matrix-backup/crypto-node adds a third over node:crypto, run against the same test suite.
 * Spec: PROTOCOL.md §3.3, §3.5, §5.3, §5.4; performance notes: DESIGN.md §4.
 */
import { pbkdf2Async } from "@noble/hashes/pbkdf2.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { Context, Effect, Either, Layer, Redacted } from "effect"
import { utf8Encode, wipe } from "../crypto/Bytes.js"
import { inChunks } from "../crypto/Chunks.js"
import {
  BackupDecryptionError,
  decodeSessionData,
  decryptSessionData,
  decryptWithSharedSecret,
  encryptSessionData,
  encryptWithSharedSecret,
  type SessionData,
} from "../crypto/MegolmBackupV1.js"
import { checkParameters, saltBytes } from "../crypto/Passphrase.js"
import * as WebX25519 from "../crypto/WebCryptoX25519.js"
import { Entropy } from "./Entropy.js"

/** One decryption outcome per input item, in input order. */
export type DecryptResults = ReadonlyArray<Either.Either<Uint8Array, BackupDecryptionError>>

/** Batch crypto for backups. No method fails as a whole: per-item failures are values. */
export class CryptoBackend extends Context.Tag("@matrix-backup/core/CryptoBackend")<
  CryptoBackend,
  {
    /** Which implementation: the two in core, or `node` (node:crypto, in @matrix-backup/crypto-node). */
    readonly name: "webcrypto" | "noble" | "node"
    /** Decrypts every item with the backup private key; one bad item never fails the batch. */
    readonly decryptSessions: (
      privateKey: Redacted.Redacted<Uint8Array>,
      items: ReadonlyArray<SessionData>,
    ) => Effect.Effect<DecryptResults>
    /**
     * Encrypts every plaintext to the backup public key with fresh ephemeral keys from Entropy. The public key must
     * be a usable X25519 key (check with `MegolmBackupV1.isUsablePublicKey` when the backup is enabled); a
     * low-order key is a caller bug and dies.
     */
    readonly encryptSessions: (
      publicKey: Uint8Array,
      plaintexts: ReadonlyArray<Uint8Array>,
    ) => Effect.Effect<ReadonlyArray<SessionData>>
    /**
     * PBKDF2-HMAC-SHA-512: UTF-8 passphrase; a string salt is used as its UTF-8 bytes (Matrix convention).
     * `iterations` must be a positive integer and `bits` a multiple of 8: validate untrusted values first.
     */
    readonly pbkdf2Sha512: (
      passphrase: Redacted.Redacted<string>,
      salt: Uint8Array | string,
      iterations: number,
      bits: number,
    ) => Effect.Effect<Redacted.Redacted<Uint8Array>>
  }
>() {}

/**
 * Web Crypto batches run as slices of this many items (each slice's exchanges queued together), with at most
 * `SLICES_IN_FLIGHT` slices under way: about 256 exchanges keep Node's crypto threads busy while the calling thread
 * works on finished ones. With slices of 1,024, one after another, the calling thread waited about 15 % of the time.
 */
const SLICE = 64
const SLICES_IN_FLIGHT = 4

const ephemeralKeys = (entropy: Context.Tag.Service<Entropy>, count: number) =>
  Effect.map(entropy.randomBytes(32 * count), (bytes) => (i: number) => bytes.subarray(32 * i, 32 * i + 32))

/** `@noble` work runs in chunks of this many items, so a long batch yields to the scheduler and can be interrupted. */
const NOBLE_CHUNK = 32

/** The pure `@noble` implementation: synchronous per item, in small chunks; portable everywhere. */
export const makeNoble = (entropy: Context.Tag.Service<Entropy>): Context.Tag.Service<CryptoBackend> => ({
  name: "noble",
  decryptSessions: (privateKey, items) => inChunks(items, NOBLE_CHUNK, (item) => decryptSessionData(Redacted.value(privateKey), item)),
  encryptSessions: (publicKey, plaintexts) =>
    Effect.flatMap(ephemeralKeys(entropy, plaintexts.length), (ephemeral) =>
      inChunks(plaintexts, NOBLE_CHUNK, (plaintext, i) => {
        const data = encryptSessionData(publicKey, plaintext, ephemeral(i))
        wipe(ephemeral(i))
        return data
      }),
    ),
  pbkdf2Sha512: (passphrase, salt, iterations, bits) =>
    Effect.promise(async () => {
      checkParameters(iterations, bits)
      const password = utf8Encode(Redacted.value(passphrase))
      const key = await pbkdf2Async(sha512, password, saltBytes(salt), { c: iterations, dkLen: bits / 8 }).finally(() => wipe(password))
      return Redacted.make(key)
    }),
})

/** Symmetric steps after X25519: synchronous `@noble` (measured faster) or all in Web Crypto. */
export type SymmetricStrategy = "noble" | "subtle"

const decryptOne = async (
  privateKey: CryptoKey,
  item: SessionData,
  symmetric: SymmetricStrategy,
): Promise<Either.Either<Uint8Array, BackupDecryptionError>> => {
  const decoded = decodeSessionData(item)
  if (Either.isLeft(decoded)) return Either.left(decoded.left)
  const secret = await WebX25519.deriveX25519Raw(privateKey, decoded.right.ephemeral)
  if (secret === undefined) return Either.left(new BackupDecryptionError({ reason: "WeakSharedSecret", field: "ephemeral" }))
  try {
    return symmetric === "noble"
      ? decryptWithSharedSecret(secret, decoded.right)
      : await WebX25519.decryptWithSharedSecretSubtle(secret, decoded.right)
  } finally {
    wipe(secret)
  }
}

/**
 * One session with Web Crypto: import the Entropy-supplied ephemeral key (PKCS#8; costly in Node, ~350 µs), derive
 * its public key and the shared secret, then the `@noble` symmetric steps. The ephemeral bytes are wiped.
 */
const encryptOne = async (recipient: CryptoKey, ephemeralKey: Uint8Array, plaintext: Uint8Array): Promise<SessionData> => {
  const key = await WebX25519.importX25519PrivateKey(ephemeralKey)
  wipe(ephemeralKey)
  const [secret, ephemeralPublic] = await Promise.all([WebX25519.deriveX25519(key, recipient), WebX25519.x25519PublicKeyOf(key)])
  // Callers validate backup public keys; a refused exchange here is a bug upstream, so it dies.
  if (secret === undefined) throw new Error("Backup public key is not a usable X25519 key")
  try {
    return encryptWithSharedSecret(secret, ephemeralPublic, plaintext)
  } finally {
    wipe(secret)
  }
}

/**
 * One session with a Web Crypto-generated ephemeral key (system entropy only): generate, export the public half,
 * derive the shared secret, then the `@noble` symmetric steps. The private half never leaves Web Crypto.
 */
const encryptOneNative = async (recipient: CryptoKey, plaintext: Uint8Array): Promise<SessionData> => {
  const ephemeral = await WebX25519.generateX25519KeyPair()
  const secret = await WebX25519.deriveX25519(ephemeral.privateKey, recipient)
  if (secret === undefined) throw new Error("Backup public key is not a usable X25519 key")
  try {
    return encryptWithSharedSecret(secret, ephemeral.publicKey, plaintext)
  } finally {
    wipe(secret)
  }
}

/**
 * Runs `f` over `items` in slices of `SLICE`, each slice concurrently (Promise.all) and up to `SLICES_IN_FLIGHT`
 * slices at once, preserving order. After a rejection no further slice starts.
 */
const inSlices = async <A, B>(items: ReadonlyArray<A>, f: (item: A) => Promise<B>): Promise<Array<B>> => {
  const out = new Array<B>(items.length)
  let next = 0
  let failed = false
  const lane = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const start = next
      next += SLICE
      try {
        const results = await Promise.all(items.slice(start, start + SLICE).map(f))
        results.forEach((result, i) => {
          out[start + i] = result
        })
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({ length: SLICES_IN_FLIGHT }, lane))
  return out
}

/**
 * Web Crypto implementation: X25519 in `crypto.subtle` (the private key imported once per batch; with system entropy,
 * ephemeral keys made by `generateKey`, otherwise imported from Entropy's bytes), the cheap
 * symmetric steps per `symmetric` (default: synchronous `@noble`, measured faster than all-subtle), PBKDF2 in subtle.
 * Requires Web Crypto X25519 (`WebCryptoX25519.x25519Supported()`).
 */
export const makeWebCrypto = (
  entropy: Context.Tag.Service<Entropy>,
  options: { readonly symmetric?: SymmetricStrategy } = {},
): Context.Tag.Service<CryptoBackend> => {
  const symmetric = options.symmetric ?? "noble"
  return {
    name: "webcrypto",
    decryptSessions: (privateKey, items) =>
      Effect.promise(async () => {
        if (items.length === 0) return []
        const key = await WebX25519.importX25519PrivateKey(Redacted.value(privateKey))
        return inSlices(items, (item) => decryptOne(key, item, symmetric))
      }),
    encryptSessions: (publicKey, plaintexts) =>
      entropy.source === "system"
        ? Effect.promise(async () => {
            const recipient = await WebX25519.importX25519PublicKey(publicKey)
            return inSlices(plaintexts, (plaintext) => encryptOneNative(recipient, plaintext))
          })
        : Effect.flatMap(ephemeralKeys(entropy, plaintexts.length), (ephemeral) =>
            Effect.promise(async () => {
              const recipient = await WebX25519.importX25519PublicKey(publicKey)
              return inSlices(
                plaintexts.map((plaintext, i) => [plaintext, ephemeral(i)] as const),
                ([plaintext, ephemeralKey]) => encryptOne(recipient, ephemeralKey, plaintext),
              )
            }),
          ),
    pbkdf2Sha512: (passphrase, salt, iterations, bits) =>
      Effect.promise(async () => {
        checkParameters(iterations, bits)
        const s = globalThis.crypto.subtle
        const password = new Uint8Array(utf8Encode(Redacted.value(passphrase)))
        const base = await s.importKey("raw", password, "PBKDF2", false, ["deriveBits"]).finally(() => wipe(password))
        const params = { name: "PBKDF2", hash: "SHA-512", salt: new Uint8Array(saltBytes(salt)), iterations }
        return Redacted.make(new Uint8Array(await s.deriveBits(params, base, bits)))
      }),
  }
}

/** Pure `@noble` backend. */
export const layerNoble: Layer.Layer<CryptoBackend, never, Entropy> = Layer.effect(CryptoBackend, Effect.map(Entropy, makeNoble))

/** Web Crypto backend with `@noble` symmetric steps; dies at build time if Web Crypto lacks X25519. */
export const layerWebCrypto: Layer.Layer<CryptoBackend, never, Entropy> = Layer.effect(
  CryptoBackend,
  Effect.gen(function* () {
    const entropy = yield* Entropy
    const supported = yield* Effect.promise(WebX25519.x25519Supported)
    if (!supported) return yield* Effect.dieMessage("Web Crypto X25519 is not available in this runtime")
    return makeWebCrypto(entropy)
  }),
)

/** Web Crypto when this runtime supports X25519 in `crypto.subtle`, otherwise `@noble`. */
export const layer: Layer.Layer<CryptoBackend, never, Entropy> = Layer.effect(
  CryptoBackend,
  Effect.gen(function* () {
    const entropy = yield* Entropy
    const supported = yield* Effect.promise(WebX25519.x25519Supported)
    return supported ? makeWebCrypto(entropy) : makeNoble(entropy)
  }),
)
