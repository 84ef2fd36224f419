/**
 * The standard Matrix error body `{errcode, error}` plus the fields key backup cares about
 * (PROTOCOL.md §1.1). Unknown fields are kept.
 */
import { Schema } from "effect"
import { Rest } from "./Json.js"

/** A Matrix error response body. */
export const MatrixError = Schema.Struct(
  {
    errcode: Schema.String,
    error: Schema.optional(Schema.String),
    /** `M_LIMIT_EXCEEDED`: how long to wait (any number; callers clamp). */
    retry_after_ms: Schema.optional(Schema.Number),
    /** `M_WRONG_ROOM_KEYS_VERSION`: the version that now accepts writes. */
    current_version: Schema.optional(Schema.String),
    /** `M_UNKNOWN_TOKEN`: the session may be refreshed rather than logged out. */
    soft_logout: Schema.optional(Schema.Boolean),
  },
  Rest,
).annotations({ identifier: "MatrixError" })
export type MatrixError = typeof MatrixError.Type

/** Error codes key backup distinguishes. */
export const M_NOT_FOUND = "M_NOT_FOUND"
export const M_WRONG_ROOM_KEYS_VERSION = "M_WRONG_ROOM_KEYS_VERSION"
export const M_LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
export const M_MISSING_TOKEN = "M_MISSING_TOKEN"
export const M_UNKNOWN_TOKEN = "M_UNKNOWN_TOKEN"
export const M_FORBIDDEN = "M_FORBIDDEN"
export const M_TOO_LARGE = "M_TOO_LARGE"
