/**
 * Recovery keys: the base58 "cryptographic key representation" of a 32-byte backup or 4S key (PROTOCOL.md §5.1).
 * https://spec.matrix.org/v1.16/appendices/#cryptographic-key-representation
 */
import { base58 } from "@scure/base"
import { Data, Either } from "effect"
import { wipe } from "./Bytes.js"

/** The two bytes every recovery key starts with before base58. */
export const RECOVERY_KEY_PREFIX: Readonly<Uint8Array> = Uint8Array.of(0x8b, 0x01)
/** Length of the key a recovery key carries. */
export const RECOVERY_KEY_KEY_LENGTH = 32
/** Prefix + key + parity byte. */
const DECODED_LENGTH = 2 + RECOVERY_KEY_KEY_LENGTH + 1
const GROUP = 4

/** Why a string is not a recovery key. Never carries the input. */
export class RecoveryKeyError extends Data.TaggedError("RecoveryKeyError")<{
  readonly reason: "Base58" | "Length" | "Prefix" | "Parity"
  readonly expected?: number
  readonly actual?: number
}> {}

/** Encodes a 32-byte key as a recovery key: prefix, key, XOR parity, base58, groups of 4 joined by spaces. */
export const encodeRecoveryKey = (key: Uint8Array): string => {
  if (key.length !== RECOVERY_KEY_KEY_LENGTH) throw new RangeError(`Recovery key input must be 32 bytes, got ${key.length}`)
  const buf = new Uint8Array(DECODED_LENGTH)
  buf.set(RECOVERY_KEY_PREFIX, 0)
  buf.set(key, 2)
  buf[DECODED_LENGTH - 1] = xorAll(buf.subarray(0, DECODED_LENGTH - 1))
  const text = base58.encode(buf)
  wipe(buf)
  const groups: Array<string> = []
  for (let i = 0; i < text.length; i += GROUP) groups.push(text.slice(i, i + GROUP))
  return groups.join(" ")
}

/**
 * Decodes a recovery key. All whitespace (any Unicode space, tabs, line breaks) is dropped first,
 * like matrix-rust-sdk and element-android (js-sdk drops only U+0020). Checks length, prefix, then parity.
 */
export const decodeRecoveryKey = (text: string): Either.Either<Uint8Array, RecoveryKeyError> => {
  let decoded: Uint8Array
  try {
    decoded = base58.decode(text.replace(/\s+/gu, ""))
  } catch {
    return Either.left(new RecoveryKeyError({ reason: "Base58" }))
  }
  try {
    if (decoded.length !== DECODED_LENGTH) {
      return Either.left(new RecoveryKeyError({ reason: "Length", expected: DECODED_LENGTH, actual: decoded.length }))
    }
    if (decoded[0] !== RECOVERY_KEY_PREFIX[0] || decoded[1] !== RECOVERY_KEY_PREFIX[1]) {
      return Either.left(new RecoveryKeyError({ reason: "Prefix" }))
    }
    if (xorAll(decoded) !== 0) return Either.left(new RecoveryKeyError({ reason: "Parity" }))
    return Either.right(decoded.slice(2, 2 + RECOVERY_KEY_KEY_LENGTH))
  } finally {
    wipe(decoded)
  }
}

/** True iff the text decodes as a valid recovery key (all checks pass); useful to tell it from a passphrase. */
export const looksLikeRecoveryKey = (text: string): boolean => {
  const result = decodeRecoveryKey(text)
  if (Either.isLeft(result)) return false
  wipe(result.right)
  return true
}

const xorAll = (bytes: Uint8Array): number => {
  let parity = 0
  for (let i = 0; i < bytes.length; i++) parity ^= bytes[i] ?? 0
  return parity
}
