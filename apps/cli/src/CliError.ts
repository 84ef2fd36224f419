/**
 * The one error every command ends with: a stable `code` for scripts and a one-line `message` for people.
 * `toCliError` maps every typed failure of the ports and crypto to it; no secret ever reaches a message.
 */
import { Data, Predicate } from "effect"

/** A failure as the command line reports it (`{"error": {"code", "message"}}` with `--json`). */
export class CliError extends Data.TaggedError("CliError")<{
  readonly code: string
  readonly message: string
}> {}

const tagOf = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined

const field = (error: unknown, name: string): string | undefined =>
  Predicate.hasProperty(error, name) && typeof error[name] === "string" ? String(error[name]) : undefined

const fromHomeserver = (tag: string, error: unknown): CliError | undefined => {
  switch (tag) {
    case "Unauthorized":
      return new CliError({
        code: "Unauthorized",
        message: `The homeserver rejected the access token (${field(error, "errcode") ?? "M_UNKNOWN_TOKEN"}): log in again`,
      })
    case "TransportError":
      return new CliError({ code: "Unreachable", message: `Could not reach the homeserver: ${field(error, "message") ?? "network error"}` })
    case "BackupNotFound":
      return new CliError({ code: "NoBackup", message: "The homeserver has no such key backup" })
    case "WrongBackupVersion":
      return new CliError({ code: "WrongBackupVersion", message: "Another backup version is current on the homeserver" })
    case "RateLimited":
      return new CliError({ code: "RateLimited", message: "The homeserver kept asking to slow down; try again later" })
    case "Forbidden":
      return new CliError({ code: "Forbidden", message: `The homeserver refused: ${field(error, "message") ?? "forbidden"}` })
    case "TooLarge":
      return new CliError({ code: "TooLarge", message: "The homeserver refused a request as too large" })
    case "HomeserverError":
      return new CliError({ code: "HomeserverError", message: `The homeserver answered with an error: ${field(error, "message") ?? "unknown"}` })
    case "MalformedResponse":
      return new CliError({ code: "MalformedResponse", message: `The homeserver sent an unexpected answer (${field(error, "endpoint") ?? "?"})` })
    default:
      return undefined
  }
}

const reasonOf = (error: unknown) => field(error, "reason")

/** Core service errors that wrap a port failure keep its meaning (`cause` is the port error or its tag). */
const fromCore = (tag: string, error: unknown): CliError | undefined => {
  const reason = reasonOf(error)
  if (tag === "RestoreError" && (reason === "HomeserverFailure" || reason === "StoreFailure" || reason === "Aborted")) {
    return new CliError({ code: "RestoreInterrupted", message: field(error, "message") ?? "The restore stopped; run it again to resume" })
  }
  const cause = Predicate.hasProperty(error, "cause") ? error.cause : undefined
  const causeTag = typeof cause === "string" ? cause : tagOf(cause)
  if (causeTag !== undefined && causeTag !== "BackupNotFound") {
    const inner = fromHomeserver(causeTag, typeof cause === "string" ? { _tag: cause } : cause)
    if (inner !== undefined) return inner
  }
  if ((tag === "RecoveryError" && reason === "NoBackup") || (tag === "RestoreError" && reason === "BackupVersionNotFound")) {
    return new CliError({ code: "NoBackup", message: "There is no key backup on the homeserver" })
  }
  if (tag === "SteadyStateError") {
    return new CliError({ code: "NotUploaded", message: `The keys could not all be backed up (${reason ?? "unknown"})` })
  }
  return undefined
}

/** Maps any failure to a `CliError`; unknown values become `Internal` without their contents. */
export const toCliError = (error: unknown): CliError => {
  if (error instanceof CliError) return error
  const tag = tagOf(error)
  if (tag === undefined) return new CliError({ code: "Internal", message: "Unexpected failure" })
  const mapped = fromHomeserver(tag, error) ?? fromCore(tag, error)
  if (mapped !== undefined) return mapped
  if (tag === "StorageError") {
    return new CliError({ code: "Storage", message: `Local store: ${field(error, "message") ?? field(error, "reason") ?? "failure"}` })
  }
  if (tag === "RecoveryKeyError") {
    return new CliError({ code: "BadRecoveryKey", message: `That is not a valid recovery key (${field(error, "reason") ?? "format"})` })
  }
  return new CliError({ code: tag, message: field(error, "message") ?? tag })
}
