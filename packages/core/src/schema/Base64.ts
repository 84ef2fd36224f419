/**
 * Matrix base64: standard alphabet, written unpadded, read padded or unpadded (PROTOCOL.md §0).
 * Effect's own `Uint8ArrayFromBase64` rejects unpadded input, so the protocol needs this one.
 */
import { base64nopad } from "@scure/base"
import { Either, ParseResult, Schema } from "effect"

/** Encodes bytes as unpadded standard base64. */
export const encodeBase64 = (bytes: Uint8Array): string => base64nopad.encode(bytes)

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/**
 * Clears the unused low bits of the last character, as Node, Python and matrix-js-sdk do when they
 * read it: real signing seeds (the spec's own test vector among them) carry non-zero bits there.
 */
const canonicalTail = (unpadded: string): string => {
  const unusedBits = unpadded.length % 4 === 2 ? 4 : unpadded.length % 4 === 3 ? 2 : 0
  const last = ALPHABET.indexOf(unpadded.charAt(unpadded.length - 1))
  if (unusedBits === 0 || last < 0) return unpadded
  return unpadded.slice(0, -1) + ALPHABET.charAt(last & ~((1 << unusedBits) - 1))
}

/** Decodes standard base64 with or without `=` padding; `undefined` when the text is not base64. */
export const decodeBase64 = (text: string): Uint8Array | undefined => {
  const unpadded = text.endsWith("==") ? text.slice(0, -2) : text.endsWith("=") ? text.slice(0, -1) : text
  if (unpadded.length % 4 === 1 || (unpadded !== text && text.length % 4 !== 0)) return undefined
  try {
    return base64nopad.decode(canonicalTail(unpadded))
  } catch {
    return undefined
  }
}

/** Bytes carried as Matrix base64 text. */
export const Base64Bytes = Schema.transformOrFail(Schema.String, Schema.Uint8ArrayFromSelf, {
  strict: true,
  decode: (text, _, ast) => {
    const bytes = decodeBase64(text)
    return bytes === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, text, "Expected standard base64, padded or unpadded"))
      : ParseResult.succeed(bytes)
  },
  encode: (bytes) => ParseResult.succeed(encodeBase64(bytes)),
}).annotations({ identifier: "Base64Bytes" })

/** Base64 of exactly `length` bytes (a key, an IV, a MAC). */
export const Base64BytesOfLength = (length: number) =>
  Base64Bytes.pipe(
    Schema.filter((bytes) => bytes.length === length || `Expected ${length} bytes, got ${bytes.length}`),
  )

/** Right when `text` is base64 of exactly `length` bytes. */
export const decodeBase64OfLength = (text: string, length: number): Either.Either<Uint8Array, string> => {
  const bytes = decodeBase64(text)
  if (bytes === undefined) return Either.left("not base64")
  return bytes.length === length ? Either.right(bytes) : Either.left(`expected ${length} bytes, got ${bytes.length}`)
}
