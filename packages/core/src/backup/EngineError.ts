/**
 * Failures of the backup engine's commands. Messages name the step and the Matrix errcode, never a key or a body.
 */
import { Data } from "effect"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { StorageError } from "../store/StorageError.js"

/** `resetKeyBackup` / `deleteKeyBackupVersion` could not finish. `step` says where it stopped. */
export class EngineError extends Data.TaggedError("EngineError")<{
  /** `NoSigningKey`: a new backup must be signed, and the app gave no device signing key (nothing was changed). */
  readonly reason: "Homeserver" | "Storage" | "SecretStorage" | "NotFound" | "ServerMisbehaves" | "NoSigningKey"
  readonly step: "deleteOldVersions" | "createVersion" | "cacheKey" | "storeInSecretStorage" | "deleteVersion" | "recordPreference"
  /** The port error's tag (e.g. "RateLimited"). */
  readonly cause?: string
  readonly errcode?: string
  readonly message: string
}> {}

/**
 * Why `waitForBackupSteadyState` gave up. `remaining` is the number of keys still pending, when known.
 * `VersionReplaced` / `VersionDeleted`: the backup uploads went to (`version`) was replaced by `currentVersion` or
 * deleted, and no usable backup took its place; `remaining` counts the keys not on `version`, `total` every key this
 * device holds, and `notInCurrentBackup` (replaced) the keys not on `currentVersion` (the ones on `version` among them).
 * `Rejected`: the server kept refusing uploads to a version it still calls current; `errcode`/`status`/`serverMessage`
 * are its last answer.
 */
export class SteadyStateError extends Data.TaggedError("SteadyStateError")<{
  readonly reason: "BackupDisabled" | "NotTrusted" | "NoBackup" | "Unknown" | "Timeout" | "Storage" | "VersionReplaced" | "VersionDeleted" | "Rejected"
  readonly remaining?: number
  readonly total?: number
  readonly notInCurrentBackup?: number
  readonly version?: string
  readonly currentVersion?: string
  readonly errcode?: string
  readonly status?: number
  readonly serverMessage?: string
  readonly message: string
}> {}

const errcodeOf = (error: HomeserverApiError): string | undefined => {
  switch (error._tag) {
    case "BackupNotFound":
      return "M_NOT_FOUND"
    case "WrongBackupVersion":
      return "M_WRONG_ROOM_KEYS_VERSION"
    case "RateLimited":
      return "M_LIMIT_EXCEEDED"
    case "Unauthorized":
    case "Forbidden":
      return error.errcode
    case "TooLarge":
      return "M_TOO_LARGE"
    case "HomeserverError":
      return error.errcode
    default:
      return undefined
  }
}

/** The Matrix errcode a port error stands for (what `KeyBackupFailed` carries), if any. */
export const matrixErrcode = errcodeOf

/** Wraps a port failure of `step`. */
export const fromHomeserver = (step: EngineError["step"], error: HomeserverApiError): EngineError => {
  const errcode = errcodeOf(error)
  return new EngineError({
    reason: error._tag === "BackupNotFound" ? "NotFound" : "Homeserver",
    step,
    cause: error._tag,
    ...(errcode === undefined ? {} : { errcode }),
    message: `${step}: ${error._tag}${errcode === undefined ? "" : ` (${errcode})`}`,
  })
}

/** Wraps a store failure of `step`. */
export const fromStorage = (step: EngineError["step"], error: StorageError): EngineError =>
  new EngineError({ reason: "Storage", step, cause: error.reason, message: `${step}: storage ${error.reason}` })
