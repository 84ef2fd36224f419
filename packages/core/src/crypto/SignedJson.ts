/**
 * Signing and verifying Matrix JSON objects: strip `signatures` and `unsigned`, canonicalise, Ed25519 (PROTOCOL.md §7.2).
 * Works on the raw object, so unknown keys stay covered by the signature.
 * https://spec.matrix.org/v1.16/appendices/#signing-json
 */
import { Data, Either } from "effect"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"
import { utf8Encode } from "./Bytes.js"
import { canonicalJson } from "./CanonicalJson.js"
import { ED25519_PUBLIC_KEY_LENGTH, ed25519Sign, ed25519Verify } from "./Ed25519.js"

export { ed25519PublicKeyFromSeed } from "./Ed25519.js"

/** Why a signature check did not pass: absent, unparseable, or cryptographically wrong. */
export class SignatureError extends Data.TaggedError("SignatureError")<{
  readonly reason: "Missing" | "Malformed" | "Invalid"
  readonly userId: string
  readonly keyId: string
}> {}

/** A JSON object as parsed from the wire. */
export type JsonObject = { readonly [key: string]: unknown }

const isRecord = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The bytes that are signed: the canonical JSON of the object without `signatures` and `unsigned`. */
export const signableBytes = (object: JsonObject): Either.Either<Uint8Array, "NotCanonical"> => {
  const { signatures: _signatures, unsigned: _unsigned, ...rest } = object
  return Either.match(canonicalJson(rest), {
    onLeft: () => Either.left("NotCanonical" as const),
    onRight: (text) => Either.right(utf8Encode(text)),
  })
}

/**
 * Signs `object` as `userId`/`keyId` (e.g. "ed25519:DEVICEID") with an Ed25519 seed and returns a copy with the
 * signature merged into `signatures` (other signatures and `unsigned` kept). Throws a RangeError only for
 * objects with no canonical form (floats, cycles), which is a caller bug: callers sign objects they built.
 */
export const signJson = <T extends JsonObject>(
  object: T,
  userId: string,
  keyId: string,
  seed: Uint8Array,
): T & { readonly signatures: Record<string, Record<string, string>> } => {
  const bytes = signableBytes(object)
  if (Either.isLeft(bytes)) throw new RangeError("Object has no canonical JSON form and cannot be signed")
  const signature = encodeBase64(ed25519Sign(bytes.right, seed))
  const existing = isRecord(object.signatures) ? object.signatures : {}
  const signatures: Record<string, Record<string, string>> = {}
  for (const [user, byKey] of Object.entries(existing)) {
    if (!isRecord(byKey)) continue
    const kept: Record<string, string> = {}
    for (const [key, value] of Object.entries(byKey)) if (typeof value === "string") kept[key] = value
    signatures[user] = kept
  }
  signatures[userId] = { ...signatures[userId], [keyId]: signature }
  return { ...object, signatures }
}

/** The signature string at `signatures[userId][keyId]`, if present and a string. */
export const getSignature = (object: unknown, userId: string, keyId: string): string | undefined => {
  if (!isRecord(object) || !isRecord(object.signatures)) return undefined
  const byKey = object.signatures[userId]
  if (!isRecord(byKey)) return undefined
  const signature = byKey[keyId]
  return typeof signature === "string" ? signature : undefined
}

/**
 * Verifies the signature of `userId`/`keyId` on a raw JSON object with a 32-byte Ed25519 public key.
 * `Missing`: no such signature. `Malformed`: not an object, signature not base64 of 64 bytes, bad key length,
 * or no canonical form. `Invalid`: the signature does not verify.
 */
export const verifyJsonSignature = (
  object: unknown,
  userId: string,
  keyId: string,
  publicKey: Uint8Array,
): Either.Either<void, SignatureError> => {
  const fail = (reason: SignatureError["reason"]) => Either.left(new SignatureError({ reason, userId, keyId }))
  if (!isRecord(object)) return fail("Malformed")
  const text = getSignature(object, userId, keyId)
  if (text === undefined) return fail("Missing")
  const signature = decodeBase64(text)
  if (signature === undefined || signature.length !== 64) return fail("Malformed")
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return fail("Malformed")
  const bytes = signableBytes(object)
  if (Either.isLeft(bytes)) return fail("Malformed")
  return ed25519Verify(signature, bytes.right, publicKey) ? Either.void : fail("Invalid")
}
