/**
 * Shapes shared by several wire schemas: a raw JSON object (kept verbatim, e.g. for signature checks
 * over canonical JSON) and the `signatures` map of signed JSON (spec appendix "Signing JSON").
 */
import { Schema } from "effect"

/** Whether `key` may be kept as a key of a decoded JSON map (see `JsonKey`). */
export const isJsonKey = (key: string): boolean => key !== "__proto__"

/**
 * A key of a JSON map. `__proto__` is refused: assigning it to the decoded object would replace the
 * object's prototype, so a hostile server could make absent fields read as present. `Schema.Record`
 * silently drops keys that fail this check, which is the safe outcome for a key no Matrix id can be.
 */
export const JsonKey = Schema.String.pipe(Schema.filter((key) => isJsonKey(key)))

/** Any JSON object, kept as received (arrays and primitives are rejected). */
export const JsonObject = Schema.Record({ key: JsonKey, value: Schema.Unknown }).annotations({
  identifier: "JsonObject",
})
export type JsonObject = typeof JsonObject.Type

/** `{ "<user_id>": { "<algorithm>:<key_id>": "<unpadded b64 signature>" } }`. */
export const Signatures = Schema.Record({
  key: JsonKey,
  value: Schema.Record({ key: JsonKey, value: Schema.String }),
}).annotations({ identifier: "Signatures" })
export type Signatures = typeof Signatures.Type

/** A non-negative JSON integer (counts, indices). */
export const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
export type NonNegativeInt = typeof NonNegativeInt.Type

/** Keeps a struct's unknown keys on decode and encode (`Schema.Struct(fields, Rest)`). */
export const Rest = Schema.Record({ key: JsonKey, value: Schema.Unknown })
