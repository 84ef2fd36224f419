/**
 * Byte helpers shared by the crypto modules: constant-time comparison, wiping, strict UTF-8, concatenation.
 * Base64 lives in `schema/Base64.ts` (Matrix unpadded base64, PROTOCOL.md §0).
 */
import { Either } from "effect"

const encoder = new TextEncoder()
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** True iff both arrays have the same length and bytes; time depends only on the length. */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

/** Overwrites the buffer with zeros (best effort: JS engines may keep copies). */
export const wipe = (bytes: Uint8Array): void => {
  bytes.fill(0)
}

/** Encodes a string as UTF-8. */
export const utf8Encode = (text: string): Uint8Array => encoder.encode(text)

/** Decodes UTF-8, failing on any invalid sequence instead of inserting U+FFFD. */
export const utf8Decode = (bytes: Uint8Array): Either.Either<string, "BadUtf8"> => {
  try {
    return Either.right(fatalDecoder.decode(bytes))
  } catch {
    return Either.left("BadUtf8")
  }
}

/** Concatenates byte arrays into a new one. */
export const concatBytes = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** True iff every byte is zero (constant time in the length). */
export const isAllZero = (bytes: Uint8Array): boolean => {
  let acc = 0
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] ?? 0
  return acc === 0
}
