/**
 * Shapes shared by several wire schemas: a raw JSON object (kept verbatim, e.g. for signature checks
 * over canonical JSON) and the `signatures` map of signed JSON (spec appendix "Signing JSON").
 */
import { Schema } from "effect"

/** Any JSON object, kept as received (arrays and primitives are rejected). */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "JsonObject",
})
export type JsonObject = typeof JsonObject.Type

/** `{ "<user_id>": { "<algorithm>:<key_id>": "<unpadded b64 signature>" } }`. */
export const Signatures = Schema.Record({
  key: Schema.String,
  value: Schema.Record({ key: Schema.String, value: Schema.String }),
}).annotations({ identifier: "Signatures" })
export type Signatures = typeof Signatures.Type

/** A non-negative JSON integer (counts, indices). */
export const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
export type NonNegativeInt = typeof NonNegativeInt.Type

/** Keeps a struct's unknown keys on decode and encode (`Schema.Struct(fields, Rest)`). */
export const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })
