/**
 * Reading a homeserver's error answers: a non-2xx status and its body become the `HomeserverApi` port's typed
 * error. For `HomeserverApi` adapters.
 */
import { Either, Schema } from "effect"
import type { BackupVersion } from "../schema/Ids.js"
import { MatrixError } from "../schema/MatrixError.js"
import {
  BackupNotFound,
  Forbidden,
  HomeserverError,
  type HomeserverApiError,
  RateLimited,
  TooLarge,
  Unauthorized,
  WrongBackupVersion,
} from "./HomeserverError.js"

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
