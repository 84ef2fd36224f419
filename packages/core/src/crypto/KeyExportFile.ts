/**
 * Element/js-sdk room key export files ("-----BEGIN MEGOLM SESSION DATA-----"): PBKDF2-SHA-512 → AES-256-CTR + HMAC-SHA-256.
 * https://spec.matrix.org/v1.16/client-server-api/#key-exports
 * Body: 0x01 ‖ salt(16) ‖ iv(16) ‖ rounds(u32 BE) ‖ ciphertext ‖ HMAC-SHA-256(K', all preceding bytes).
 * For 500k rounds prefer `CryptoBackend.pbkdf2Sha512(passphrase, body.salt, body.rounds, 512)` + `splitKeyExportKeys`
 * + `decryptKeyExportWithKeys` / `encryptKeyExportWithKeys` over the synchronous wrappers below.
 */
import { ctr } from "@noble/ciphers/aes.js"
import { hmac } from "@noble/hashes/hmac.js"
import { pbkdf2 } from "@noble/hashes/pbkdf2.js"
import { sha256, sha512 } from "@noble/hashes/sha2.js"
import { base64 } from "@scure/base"
import { Data, Either } from "effect"
import { decodeBase64 } from "../schema/Base64.js"
import { constantTimeEqual, utf8Decode, utf8Encode, wipe } from "./Bytes.js"

/** First line of the armoured file. */
export const KEY_EXPORT_HEADER = "-----BEGIN MEGOLM SESSION DATA-----"
/** Last line of the armoured file. */
export const KEY_EXPORT_TRAILER = "-----END MEGOLM SESSION DATA-----"
/** Format version byte. */
export const KEY_EXPORT_VERSION = 0x01
/** PBKDF2 rounds Element uses when exporting. */
export const DEFAULT_KEY_EXPORT_ROUNDS = 500_000
/** Base64 characters per line (72 bytes), as Element writes. */
const LINE_LENGTH = 96
const PREFIX_LENGTH = 1 + 16 + 16 + 4
const MAC_LENGTH = 32

/** Why a key file could not be read. A wrong passphrase is `BadMac`. */
export class KeyExportError extends Data.TaggedError("KeyExportError")<{
  readonly reason: "Format" | "Version" | "BadMac" | "BadUtf8"
  readonly detail?: string
}> {}

/** The decoded body of a key file, before any key derivation. */
export type KeyExportBody = {
  readonly salt: Uint8Array
  readonly iv: Uint8Array
  readonly rounds: number
  readonly ciphertext: Uint8Array
  readonly mac: Uint8Array
  /** Everything the MAC covers (version through ciphertext). */
  readonly signed: Uint8Array
}

/** Parameters chosen when exporting: 16 random salt bytes, 16 random IV bytes (bit 63 is cleared), rounds. */
export type KeyExportParameters = { readonly salt: Uint8Array; readonly iv: Uint8Array; readonly rounds: number }

/** The two 32-byte keys: K for AES-CTR and K' for HMAC. */
export type KeyExportKeys = { readonly aesKey: Uint8Array; readonly hmacKey: Uint8Array }

const formatError = (detail: string) => Either.left(new KeyExportError({ reason: "Format", detail }))

/** Finds the armour lines, joins and base64-decodes the body, and splits it into its fields. */
export const parseKeyExportFile = (text: string): Either.Either<KeyExportBody, KeyExportError> => {
  const lines = text.split(/\r?\n/u).map((line) => line.trim())
  const start = lines.indexOf(KEY_EXPORT_HEADER)
  if (start < 0) return formatError("Header line not found")
  const end = lines.indexOf(KEY_EXPORT_TRAILER, start + 1)
  if (end < 0) return formatError("Trailer line not found")
  const body = decodeBase64(lines.slice(start + 1, end).join("").replace(/\s+/gu, ""))
  if (body === undefined) return formatError("Body is not base64")
  if (body.length === 0) return formatError("Invalid file: too short")
  if (body[0] !== KEY_EXPORT_VERSION) return Either.left(new KeyExportError({ reason: "Version" }))
  if (body.length < PREFIX_LENGTH + MAC_LENGTH) return formatError("Invalid file: too short")
  const rounds = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(33, false)
  if (rounds === 0) return formatError("Zero PBKDF2 rounds")
  const macStart = body.length - MAC_LENGTH
  return Either.right({
    salt: body.slice(1, 17),
    iv: body.slice(17, 33),
    rounds,
    ciphertext: body.slice(PREFIX_LENGTH, macStart),
    mac: body.slice(macStart),
    signed: body.slice(0, macStart),
  })
}

/** Splits the 64 bytes of PBKDF2 output into K and K'. */
export const splitKeyExportKeys = (derived: Uint8Array): KeyExportKeys => {
  if (derived.length !== 64) throw new RangeError(`Key export keys must be 64 bytes, got ${derived.length}`)
  return { aesKey: derived.slice(0, 32), hmacKey: derived.slice(32, 64) }
}

/** K ‖ K' = PBKDF2-HMAC-SHA-512(UTF-8 passphrase, salt, rounds, 512 bits), synchronously (@noble). */
export const deriveKeyExportKeysSync = (passphrase: string, salt: Uint8Array, rounds: number): KeyExportKeys => {
  const derived = pbkdf2(sha512, utf8Encode(passphrase), salt, { c: rounds, dkLen: 64 })
  const keys = splitKeyExportKeys(derived)
  wipe(derived)
  return keys
}

/** Verifies the HMAC, then decrypts with AES-256-CTR and decodes UTF-8. */
export const decryptKeyExportWithKeys = (body: KeyExportBody, keys: KeyExportKeys): Either.Either<string, KeyExportError> => {
  if (!constantTimeEqual(hmac(sha256, keys.hmacKey, body.signed), body.mac)) {
    return Either.left(new KeyExportError({ reason: "BadMac" }))
  }
  const plaintext = ctr64(keys.aesKey, body.iv, body.ciphertext)
  const text = utf8Decode(plaintext)
  wipe(plaintext)
  return Either.isRight(text) ? Either.right(text.right) : Either.left(new KeyExportError({ reason: "BadUtf8" }))
}

/**
 * AES-256-CTR whose counter is the low 64 bits of the IV only, wrapping without carry: Web Crypto `length: 64`,
 * which Element used to write files. Element's own test vectors have IVs of all 0xff, where a 128-bit counter
 * would differ after the first block. With bit 63 cleared (what we write) both agree.
 */
const ctr64 = (key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array => {
  const low = new DataView(iv.buffer, iv.byteOffset, 16).getBigUint64(8, false)
  const blocksToWrap = 2n ** 64n - low
  const blocks = BigInt(Math.ceil(data.length / 16))
  if (blocks <= blocksToWrap) return ctr(key, iv).encrypt(data)
  const split = Number(blocksToWrap) * 16
  const wrapped = iv.slice()
  wrapped.fill(0, 8)
  const out = new Uint8Array(data.length)
  out.set(ctr(key, iv).encrypt(data.subarray(0, split)), 0)
  out.set(ctr(key, wrapped).encrypt(data.subarray(split)), split)
  return out
}

/** Encrypts with already derived keys and returns the armoured file text. */
export const encryptKeyExportWithKeys = (plaintext: string, parameters: KeyExportParameters, keys: KeyExportKeys): string => {
  const { salt, rounds } = parameters
  if (salt.length !== 16 || parameters.iv.length !== 16) throw new RangeError("Key export salt and IV must be 16 bytes")
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 0xffff_ffff) throw new RangeError("Key export rounds must be a positive u32")
  const iv = parameters.iv.slice()
  iv[8] = (iv[8] ?? 0) & 0x7f // bit 63 cleared, so 64-bit and 128-bit CTR counters agree
  const data = utf8Encode(plaintext)
  const ciphertext = ctr(keys.aesKey, iv).encrypt(data)
  wipe(data)
  const body = new Uint8Array(PREFIX_LENGTH + ciphertext.length + MAC_LENGTH)
  body[0] = KEY_EXPORT_VERSION
  body.set(salt, 1)
  body.set(iv, 17)
  new DataView(body.buffer).setUint32(33, rounds, false)
  body.set(ciphertext, PREFIX_LENGTH)
  body.set(hmac(sha256, keys.hmacKey, body.subarray(0, PREFIX_LENGTH + ciphertext.length)), PREFIX_LENGTH + ciphertext.length)
  return armour(base64.encode(body))
}

const armour = (encoded: string): string => {
  const lines = [KEY_EXPORT_HEADER]
  for (let i = 0; i < encoded.length; i += LINE_LENGTH) lines.push(encoded.slice(i, i + LINE_LENGTH))
  lines.push(KEY_EXPORT_TRAILER)
  return lines.join("\n") + "\n"
}

/** Encrypts a key export (the JSON array of exported sessions) under a passphrase. Slow: sync PBKDF2. */
export const encryptKeyExport = (plaintext: string, passphrase: string, parameters: KeyExportParameters): string => {
  const keys = deriveKeyExportKeysSync(passphrase, parameters.salt, parameters.rounds)
  try {
    return encryptKeyExportWithKeys(plaintext, parameters, keys)
  } finally {
    wipe(keys.aesKey)
    wipe(keys.hmacKey)
  }
}

/** Decrypts a key export file. A wrong passphrase gives `BadMac`. Slow: sync PBKDF2 with the file's rounds. */
export const decryptKeyExport = (text: string, passphrase: string): Either.Either<string, KeyExportError> =>
  Either.flatMap(parseKeyExportFile(text), (body) => {
    const keys = deriveKeyExportKeysSync(passphrase, body.salt, body.rounds)
    try {
      return decryptKeyExportWithKeys(body, keys)
    } finally {
      wipe(keys.aesKey)
      wipe(keys.hmacKey)
    }
  })
