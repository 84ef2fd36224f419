/**
 * The decrypted plaintext of one backed-up session, `BackedUpSessionData` (PROTOCOL.md §3.6).
 * It holds the Megolm session key, so decode errors name fields and a reason but never carry values.
 */
import { Data, Either, ParseResult, Predicate, Redacted, Schema } from "effect"
import { decodeBase64OfLength } from "./Base64.js"
import { isJsonKey, JsonKey } from "./Json.js"
import type { JsonObject } from "./Json.js"
import { MEGOLM_V1_AES_SHA2 } from "./RoomKey.js"

/** Shared-history flag as the spec names it (v1.19). */
export const SHARED_HISTORY = "shared_history"
/** Shared-history flag as matrix-rust-sdk writes and reads it; the one we write. */
export const M_SHARED_HISTORY = "m.shared_history"
/** MSC3061 unstable alias of the flag (older matrix-rust-sdk, legacy js-sdk). */
export const MSC3061_SHARED_HISTORY = "org.matrix.msc3061.shared_history"

/** Decoded plaintext. `extra` keeps fields we do not model (`untrusted`, `room_id`, ...). */
export const BackedUpSessionDataType = Schema.Struct({
  algorithm: Schema.Literal(MEGOLM_V1_AES_SHA2),
  sender_key: Schema.String,
  session_key: Schema.RedactedFromSelf(Schema.String),
  sender_claimed_keys: Schema.Record({ key: JsonKey, value: Schema.String }),
  forwarding_curve25519_key_chain: Schema.Array(Schema.String),
  shared_history: Schema.Boolean,
  extra: Schema.Record({ key: JsonKey, value: Schema.Unknown }),
})
export type BackedUpSessionData = typeof BackedUpSessionDataType.Type

/** Why a plaintext was rejected; counts per-key failures by `reason`. Never holds plaintext. */
export class BackedUpSessionDataError extends Data.TaggedError("BackedUpSessionDataError")<{
  readonly reason: "MalformedPlaintext" | "MissingFields" | "UnknownAlgorithm"
  /** Names of the offending fields (no values). */
  readonly fields: ReadonlyArray<string>
}> {
  override get message(): string {
    return `${this.reason}${this.fields.length > 0 ? `: ${this.fields.join(", ")}` : ""}`
  }
}

const KNOWN = new Set([
  "algorithm",
  "sender_key",
  "session_key",
  "sender_claimed_keys",
  "forwarding_curve25519_key_chain",
  SHARED_HISTORY,
  M_SHARED_HISTORY,
  MSC3061_SHARED_HISTORY,
])
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const REQUIRED = ["algorithm", "sender_key", "session_key", "sender_claimed_keys"] as const

const fail = (reason: BackedUpSessionDataError["reason"], fields: ReadonlyArray<string>) =>
  Either.left(new BackedUpSessionDataError({ reason, fields }))

const isStringArray = (u: unknown): u is ReadonlyArray<string> => Array.isArray(u) && u.every(Predicate.isString)
const isStringRecord = (u: unknown): u is Readonly<Record<string, string>> =>
  Predicate.isRecord(u) && !Array.isArray(u) && Object.values(u).every(Predicate.isString)

const badFields = (o: Readonly<Record<string, unknown>>, chain: unknown): Array<string> => {
  const bad: Array<string> = []
  if (!Predicate.isString(o.sender_key) || Either.isLeft(decodeBase64OfLength(o.sender_key, 32))) bad.push("sender_key")
  if (!Predicate.isString(o.session_key) || !BASE64.test(o.session_key)) bad.push("session_key")
  if (!isStringRecord(o.sender_claimed_keys)) bad.push("sender_claimed_keys")
  if (!isStringArray(chain)) bad.push("forwarding_curve25519_key_chain")
  return bad
}

/** Classifies and decodes an already JSON-parsed plaintext object. */
export const decodeBackedUpSessionDataObject = (
  input: unknown,
): Either.Either<BackedUpSessionData, BackedUpSessionDataError> => {
  if (!Predicate.isRecord(input) || Array.isArray(input)) return fail("MalformedPlaintext", [])
  const missing = REQUIRED.filter((field) => input[field] === undefined)
  if (missing.length > 0) return fail("MissingFields", missing)
  if (input.algorithm !== MEGOLM_V1_AES_SHA2) return fail("UnknownAlgorithm", ["algorithm"])
  const chain = input.forwarding_curve25519_key_chain ?? []
  const bad = badFields(input, chain)
  if (bad.length > 0 || !isStringArray(chain)) return fail("MalformedPlaintext", bad)
  const { sender_key, session_key, sender_claimed_keys } = input
  if (!Predicate.isString(sender_key) || !Predicate.isString(session_key) || !isStringRecord(sender_claimed_keys)) {
    return fail("MalformedPlaintext", [])
  }
  // Keys are kept by the `JsonKey` rule, so no later copy can turn `__proto__` into a prototype.
  const extra = Object.fromEntries(Object.entries(input).filter(([key]) => !KNOWN.has(key) && isJsonKey(key)))
  return Either.right({
    algorithm: MEGOLM_V1_AES_SHA2,
    sender_key,
    session_key: Redacted.make(session_key),
    sender_claimed_keys,
    forwarding_curve25519_key_chain: chain,
    shared_history: [SHARED_HISTORY, M_SHARED_HISTORY, MSC3061_SHARED_HISTORY].some((k) => input[k] === true),
    extra,
  })
}

/** Decodes the decrypted bytes (or text). A JSON syntax error is `MalformedPlaintext` with no detail. */
export const decodeBackedUpSessionData = (
  plaintext: Uint8Array | string,
): Either.Either<BackedUpSessionData, BackedUpSessionDataError> => {
  const text = typeof plaintext === "string" ? plaintext : new TextDecoder().decode(plaintext)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // JSON.parse messages quote the input; the input holds the session key.
    return fail("MalformedPlaintext", [])
  }
  return decodeBackedUpSessionDataObject(parsed)
}

/** The wire object: writes `m.shared_history` (never the MSC3061 alias, which serde would reject as a duplicate). */
export const encodeBackedUpSessionData = (data: BackedUpSessionData): JsonObject => ({
  ...data.extra,
  algorithm: data.algorithm,
  sender_key: data.sender_key,
  session_key: Redacted.value(data.session_key),
  sender_claimed_keys: data.sender_claimed_keys,
  forwarding_curve25519_key_chain: data.forwarding_curve25519_key_chain,
  [M_SHARED_HISTORY]: data.shared_history,
})

/** The plaintext JSON text to encrypt. */
export const stringifyBackedUpSessionData = (data: BackedUpSessionData): string =>
  JSON.stringify(encodeBackedUpSessionData(data))

/**
 * Schema form (from any parsed JSON value). Its parse errors carry only the reason and field names:
 * the input is replaced by a placeholder so no formatter can print the session key.
 */
export const BackedUpSessionData = Schema.transformOrFail(Schema.Unknown, BackedUpSessionDataType, {
  strict: true,
  decode: (input, _, ast) =>
    Either.match(decodeBackedUpSessionDataObject(input), {
      onLeft: (error) => ParseResult.fail(new ParseResult.Type(ast, "<redacted plaintext>", error.message)),
      onRight: ParseResult.succeed,
    }),
  encode: (data) => ParseResult.succeed(encodeBackedUpSessionData(data)),
}).annotations({ identifier: "BackedUpSessionData" })
