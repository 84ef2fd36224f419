/**
 * Failures of the `HomeserverApi` port. Each Matrix `errcode` that key backup acts on is its own tag;
 * anything else is `HomeserverError`. No error carries a response body (bodies hold ciphertexts and secrets).
 */
import { Data, Predicate } from "effect"
import type { BackupVersion } from "../schema/Ids.js"

/** 404 `M_NOT_FOUND` from a backup endpoint: no (such) backup version, or the key is absent. */
export class BackupNotFound extends Data.TaggedError("BackupNotFound")<{
  readonly version?: BackupVersion
  readonly message: string
}> {}

/** 403 `M_WRONG_ROOM_KEYS_VERSION`: another version is current; `currentVersion` names it. */
export class WrongBackupVersion extends Data.TaggedError("WrongBackupVersion")<{
  readonly currentVersion?: string
  readonly message: string
}> {}

/** 429 `M_LIMIT_EXCEEDED` still answered after the adapter's retries. */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly retryAfterMs?: number
  readonly message: string
}> {}

/** 401 `M_MISSING_TOKEN` / `M_UNKNOWN_TOKEN`; `softLogout` means the session can be refreshed. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly errcode: string
  readonly softLogout: boolean
  readonly message: string
}> {}

/** 403 `M_FORBIDDEN` (or `M_GUEST_ACCESS_FORBIDDEN`): not allowed for this account. */
export class Forbidden extends Data.TaggedError("Forbidden")<{
  readonly errcode: string
  readonly message: string
}> {}

/** 413 / `M_TOO_LARGE`: the request body is too big; send smaller batches. */
export class TooLarge extends Data.TaggedError("TooLarge")<{
  readonly status: number
  readonly message: string
}> {}

/** Any other non-2xx answer. `Unrecognised` covers unknown errcodes and non-Matrix error bodies. */
export class HomeserverError extends Data.TaggedError("HomeserverError")<{
  readonly reason: "Unrecognised" | "BadRequest" | "NotFound" | "Unsupported" | "ServerError"
  readonly status: number
  readonly errcode?: string
  readonly message: string
}> {}

/** The request never got a complete answer. */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly reason: "Network" | "Timeout" | "Aborted"
  readonly message: string
}> {}

/** A 2xx body that is not JSON or not the expected shape. `summary` names paths and issues, never values. */
export class MalformedResponse extends Data.TaggedError("MalformedResponse")<{
  readonly endpoint: string
  readonly summary: string
}> {}

/** Every failure a `HomeserverApi` method can report. */
export type HomeserverApiError =
  | BackupNotFound
  | WrongBackupVersion
  | RateLimited
  | Unauthorized
  | Forbidden
  | TooLarge
  | HomeserverError
  | TransportError
  | MalformedResponse

/** True for failures worth retrying with backoff (5xx, network, timeout); never for 4xx. */
export const isTransient = (error: HomeserverApiError): boolean =>
  (error._tag === "HomeserverError" && error.reason === "ServerError") ||
  (error._tag === "TransportError" && error.reason !== "Aborted")

/** Narrows an unknown value to a port error (e.g. after `Effect.catchAll`). */
export const isHomeserverApiError = (u: unknown): u is HomeserverApiError =>
  Predicate.isTagged(u, "BackupNotFound") ||
  Predicate.isTagged(u, "WrongBackupVersion") ||
  Predicate.isTagged(u, "RateLimited") ||
  Predicate.isTagged(u, "Unauthorized") ||
  Predicate.isTagged(u, "Forbidden") ||
  Predicate.isTagged(u, "TooLarge") ||
  Predicate.isTagged(u, "HomeserverError") ||
  Predicate.isTagged(u, "TransportError") ||
  Predicate.isTagged(u, "MalformedResponse")
