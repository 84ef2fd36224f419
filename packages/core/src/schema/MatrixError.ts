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

/** Error codes key backup distinguishes: no such backup (version, key or account data). */
export const M_NOT_FOUND = "M_NOT_FOUND"
/** Writes went to a backup version that is no longer the current one. */
export const M_WRONG_ROOM_KEYS_VERSION = "M_WRONG_ROOM_KEYS_VERSION"
/** Rate limited: wait `retry_after_ms`. */
export const M_LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
/** The request had no access token. */
export const M_MISSING_TOKEN = "M_MISSING_TOKEN"
/** The access token is not (or no longer) valid. */
export const M_UNKNOWN_TOKEN = "M_UNKNOWN_TOKEN"
/** The request is not allowed for this user. */
export const M_FORBIDDEN = "M_FORBIDDEN"
/** The request body is too large for the server. */
export const M_TOO_LARGE = "M_TOO_LARGE"
