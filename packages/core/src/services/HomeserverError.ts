/**
 * Failures of the `HomeserverApi` port. Each Matrix `errcode` that key backup acts on is its own tag;
 * anything else is `HomeserverError`. No error carries a response body (bodies hold ciphertexts and secrets).
 */
import { Data, Either, ParseResult, Predicate, Schema } from "effect"
import type { BackupVersion } from "../schema/Ids.js"
import { MatrixError } from "../schema/MatrixError.js"

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

/** A schema failure as `path: issue` lines, without the offending values. */
export const summarizeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".")}: ${issue._tag}`)
    .join("; ")

/** Which endpoint family answered: 404 `M_NOT_FOUND` means "no backup" only under `/room_keys`. */
export type ErrorContext = { readonly roomKeys: boolean; readonly version?: BackupVersion }

const BAD_REQUEST = new Set(["M_BAD_JSON", "M_NOT_JSON", "M_MISSING_PARAM", "M_INVALID_PARAM", "M_UNKNOWN"])
const text = (body: MatrixError | undefined, fallback: string): string => body?.error ?? fallback
const clampRetry = (ms: number | undefined): number | undefined =>
  ms === undefined || !Number.isFinite(ms) ? undefined : Math.min(Math.max(0, Math.round(ms)), 24 * 3600_000)

/** Decodes an error body; anything that is not a Matrix error reads as "no errcode". */
export const decodeMatrixError = (body: unknown): MatrixError | undefined =>
  Either.getOrUndefined(Schema.decodeUnknownEither(MatrixError)(body))

/** Maps a non-2xx status and its (parsed) body to the port's error. Never throws, never dies. */
export const fromResponse = (status: number, body: unknown, context: ErrorContext): HomeserverApiError => {
  const error = decodeMatrixError(body)
  const errcode = error?.errcode
  const message = text(error, `HTTP ${status}`)
  if (errcode === "M_NOT_FOUND" && context.roomKeys) {
    return new BackupNotFound({ ...(context.version === undefined ? {} : { version: context.version }), message })
  }
  if (errcode === "M_WRONG_ROOM_KEYS_VERSION") {
    const current = error?.current_version
    return new WrongBackupVersion({ ...(current === undefined ? {} : { currentVersion: current }), message })
  }
  if (errcode === "M_LIMIT_EXCEEDED" || status === 429) {
    const retryAfterMs = clampRetry(error?.retry_after_ms)
    return new RateLimited({ ...(retryAfterMs === undefined ? {} : { retryAfterMs }), message })
  }
  if (errcode === "M_MISSING_TOKEN" || errcode === "M_UNKNOWN_TOKEN" || status === 401) {
    return new Unauthorized({ errcode: errcode ?? "M_UNKNOWN_TOKEN", softLogout: error?.soft_logout === true, message })
  }
  if (errcode === "M_FORBIDDEN" || errcode === "M_GUEST_ACCESS_FORBIDDEN") return new Forbidden({ errcode, message })
  if (errcode === "M_TOO_LARGE" || status === 413) return new TooLarge({ status, message })
  return new HomeserverError({ reason: reasonOf(status, errcode), status, ...(errcode ? { errcode } : {}), message })
}

const reasonOf = (status: number, errcode: string | undefined): HomeserverError["reason"] => {
  if (errcode === "M_UNRECOGNIZED") return "Unsupported"
  if (status >= 500) return "ServerError"
  if (errcode === "M_NOT_FOUND") return "NotFound"
  if (status === 400 && errcode !== undefined && BAD_REQUEST.has(errcode)) return "BadRequest"
  return "Unrecognised"
}

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
