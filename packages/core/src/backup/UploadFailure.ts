/**
 * How the upload loop reads a failed `PUT /room_keys/keys`: by status and errcode together, since servers differ
 * (a replaced version is 403 on Synapse, 400 on conduwuit and tuwunel; an upload to Dendrite's deleted version is 500).
 */
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { isTransient } from "../services/HomeserverError.js"
import { matrixErrcode } from "./EngineError.js"

/** The server's answer as the state reports it; the message is cut short and never holds a request body. */
export interface ServerAnswer {
  readonly errcode?: string
  readonly status?: number
  readonly serverMessage?: string
}

const MAX_MESSAGE = 200

const statusOf = (error: HomeserverApiError): number | undefined => {
  switch (error._tag) {
    case "HomeserverError":
    case "TooLarge":
      return error.status
    case "BackupNotFound":
      return 404
    case "RateLimited":
      return 429
    case "Unauthorized":
      return 401
    case "Forbidden":
      return 403
    default:
      return undefined
  }
}

/** The errcode, status and text of the answer, as far as the error knows them. */
export const serverAnswer = (error: HomeserverApiError): ServerAnswer => {
  const errcode = matrixErrcode(error)
  const status = statusOf(error)
  const text = "message" in error ? error.message.slice(0, MAX_MESSAGE) : undefined
  return {
    ...(errcode === undefined ? {} : { errcode }),
    ...(status === undefined ? {} : { status }),
    ...(text === undefined || text === "" ? {} : { serverMessage: text }),
  }
}

/** A 5xx: transient, but Dendrite also answers 500 to an upload to a deleted version. */
export const isServerError = (error: HomeserverApiError): boolean => error._tag === "HomeserverError" && error.reason === "ServerError"

/**
 * A refusal that waiting will not change (a 4xx other than 429/413/401, or an unreadable answer): the version may be
 * gone or replaced under a different errcode, so the loop re-checks it before trying again.
 */
export const isRejection = (error: HomeserverApiError): boolean =>
  !isTransient(error) &&
  error._tag !== "TransportError" &&
  error._tag !== "RateLimited" &&
  error._tag !== "TooLarge" &&
  error._tag !== "Unauthorized"

/** Two failures are "the same answer" when status and errcode match. */
export const sameAnswer = (a: ServerAnswer, b: ServerAnswer | undefined): boolean =>
  b !== undefined && a.status === b.status && a.errcode === b.errcode
