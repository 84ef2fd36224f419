/**
 * How the Promise facade rejects: a plain `Error` whose `name` is the Effect error's tag and whose `code` is its
 * reason, with matrix-js-sdk `MatrixError`'s `errcode`, `httpStatus` and `data` when the homeserver answered.
 * Messages come from our typed errors, which never carry keys, tokens or plaintext.
 */
import { Cause, Exit, Predicate } from "effect"

/** The part of a Matrix error body this library keeps (js-sdk's `IErrorJson`; never the whole response). */
export interface MatrixErrorData {
  readonly errcode?: string
  readonly error?: string
  readonly retry_after_ms?: number
}

/** What a failure said about the homeserver's answer. */
export interface HomeserverAnswer {
  readonly errcode?: string | undefined
  readonly httpStatus?: number | undefined
  readonly retryAfterMs?: number | undefined
}

/** The error every facade method rejects with. */
export class KeyBackupClientError extends Error {
  /** The typed reason (`NotTrusted`, `WrongKey`, ...) or the tag when the error has none. */
  readonly code: string
  /** The Matrix errcode (`M_NOT_FOUND`, ...), when the failure came from the homeserver; as `MatrixError.errcode`. */
  readonly errcode: string | undefined
  /** The HTTP status of the homeserver's answer, when there was one; as `MatrixError.httpStatus`. */
  readonly httpStatus: number | undefined
  /** `MatrixError.data`: the errcode, our message and `retry_after_ms` (empty when the homeserver was not involved). */
  readonly data: MatrixErrorData

  constructor(name: string, code: string, message: string, answer: HomeserverAnswer | string = {}) {
    super(message)
    const { errcode, httpStatus, retryAfterMs } = typeof answer === "string" ? { errcode: answer, httpStatus: undefined, retryAfterMs: undefined } : answer
    this.name = name
    this.code = code
    this.errcode = errcode
    this.httpStatus = httpStatus ?? (errcode === undefined ? undefined : STATUS_OF_ERRCODE[errcode])
    this.data = errcode === undefined ? {} : { errcode, error: message, ...(retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }) }
  }
}

/** The status a homeserver answers each errcode this library acts on with (when only the errcode was kept). */
const STATUS_OF_ERRCODE: Readonly<Record<string, number>> = {
  M_NOT_FOUND: 404,
  M_WRONG_ROOM_KEYS_VERSION: 403,
  M_FORBIDDEN: 403,
  M_GUEST_ACCESS_FORBIDDEN: 403,
  M_LIMIT_EXCEEDED: 429,
  M_MISSING_TOKEN: 401,
  M_UNKNOWN_TOKEN: 401,
  M_TOO_LARGE: 413,
}

/** The status implied by a HomeserverApi error tag that has no `status` field. */
const STATUS_OF_TAG: Readonly<Record<string, number>> = {
  BackupNotFound: 404,
  WrongBackupVersion: 403,
  RateLimited: 429,
  Unauthorized: 401,
  Forbidden: 403,
}

const stringField = (u: unknown, key: string): string | undefined => {
  const value: unknown = Predicate.isObject(u) ? Reflect.get(u, key) : undefined
  return typeof value === "string" ? value : undefined
}

const numberField = (u: unknown, key: string): number | undefined => {
  const value: unknown = Predicate.isObject(u) ? Reflect.get(u, key) : undefined
  return typeof value === "number" ? value : undefined
}

/** The homeserver's answer behind a failure: on the error itself, or on the port error it wraps (`cause`). */
const answerOf = (failure: object): HomeserverAnswer => {
  const cause: unknown = Reflect.get(failure, "cause")
  const layers = [failure, ...(Predicate.isObject(cause) ? [cause] : [])]
  const first = <A>(f: (u: object) => A | undefined): A | undefined => layers.map(f).find((a) => a !== undefined)
  const tagStatus = (u: object) => {
    const tag = stringField(u, "_tag")
    return tag === undefined ? undefined : STATUS_OF_TAG[tag]
  }
  return {
    errcode: first((u) => stringField(u, "errcode")),
    httpStatus: first((u) => numberField(u, "status") ?? tagStatus(u)),
    retryAfterMs: first((u) => numberField(u, "retryAfterMs")),
  }
}

/** Converts a typed failure (a tagged error) to a `KeyBackupClientError`. */
export const fromFailure = (failure: unknown): KeyBackupClientError => {
  if (failure instanceof KeyBackupClientError) return failure
  if (Predicate.isObject(failure) && Predicate.hasProperty(failure, "_tag") && typeof failure._tag === "string") {
    const tag = failure._tag
    const code = stringField(failure, "reason") ?? tag
    const message = stringField(failure, "message") ?? tag
    return new KeyBackupClientError(tag, code, message, answerOf(failure))
  }
  return new KeyBackupClientError("UnknownError", "Unknown", "Key backup operation failed")
}

/** The value of an exit, or the error to reject with (defects and interruptions get generic, secret-free messages). */
export const unwrapExit = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") throw fromFailure(failure.value)
  if (Cause.isInterruptedOnly(exit.cause)) throw new KeyBackupClientError("Interrupted", "Interrupted", "The operation was interrupted (client stopped?)")
  const defect = Cause.squash(exit.cause)
  // Defects are our own bugs or environment gaps; their messages are ours, never data.
  const detail = defect instanceof Error ? `: ${defect.message}` : ""
  throw new KeyBackupClientError("Defect", "Defect", `Internal error in the key backup client${detail}`)
}
