/**
 * The one error every command ends with: a stable `code` for scripts and a one-line `message` for people that says
 * what happened and what to do next. `toCliError` maps the typed failures of the ports and of core to it; no
 * internal name and no secret ever reaches a message.
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

const fail = (code: string, message: string) => new CliError({ code, message })

/** Recovery-key format problems, in words (core's `RecoveryKeyError` reasons). */
export const recoveryKeyProblem = (reason: string | undefined, expected?: number, actual?: number): string => {
  switch (reason) {
    case "Parity":
      return "a character is mistyped (its check digit does not match)"
    case "Base58":
      return "it contains a character recovery keys never use (0, O, I, l or punctuation)"
    case "Prefix":
      return "it does not start like a recovery key (they start with Es)"
    case "Length":
      return actual !== undefined && expected !== undefined && actual > expected ? "the key is too long" : "the key is too short"
    default:
      return "it is not in the recovery key format"
  }
}

const transportWords = (reason: string | undefined) =>
  reason === "Timeout" ? "it did not answer in time" : reason === "Aborted" ? "the request was cancelled" : "the connection failed"

/** Port failures (HomeserverApi). */
const fromHomeserver = (tag: string, error: unknown): CliError | undefined => {
  switch (tag) {
    case "Unauthorized":
      return fail(
        "Unauthorized",
        `The homeserver rejected the access token (${field(error, "errcode") ?? "M_UNKNOWN_TOKEN"}): log in again and pass the new token with --access-token or MATRIX_ACCESS_TOKEN`,
      )
    case "TransportError":
      return fail("Unreachable", `Lost the connection to the homeserver (${transportWords(field(error, "reason"))}); run the command again`)
    case "BackupNotFound":
      return fail("NoBackup", "The homeserver has no such key backup; `matrix-backup status` shows the current one")
    case "WrongBackupVersion":
      return fail("WrongBackupVersion", "Another device replaced the key backup meanwhile; run `matrix-backup status`, then the command again")
    case "RateLimited":
      return fail("RateLimited", "The homeserver kept asking to slow down; wait a minute and run the command again")
    case "Forbidden":
      return fail("Forbidden", `The homeserver refused this account: ${field(error, "message") ?? "forbidden"}`)
    case "TooLarge":
      return fail("TooLarge", "The homeserver refused a request as too large")
    case "HomeserverError":
      return fail("HomeserverError", `The homeserver answered with an error: ${field(error, "message") ?? "unknown"}; try again later`)
    case "MalformedResponse":
      return fail("MalformedResponse", `The homeserver sent an answer this tool cannot read (${field(error, "endpoint") ?? "unknown endpoint"}); is the URL a Matrix homeserver?`)
    default:
      return undefined
  }
}

const reasonOf = (error: unknown) => field(error, "reason")

const RESUMABLE = new Set(["HomeserverFailure", "StoreFailure", "Aborted"])

/** Core service errors; those wrapping a port failure keep its meaning (`cause` is the port error or its tag). */
const fromCore = (tag: string, error: unknown): CliError | undefined => {
  const reason = reasonOf(error)
  if (tag === "RestoreError" && reason !== undefined && RESUMABLE.has(reason)) {
    return fail("RestoreInterrupted", "The restore stopped before the end (connection or disk); run the restore again to resume where it stopped")
  }
  const cause = Predicate.hasProperty(error, "cause") ? error.cause : undefined
  const causeTag = typeof cause === "string" ? cause : tagOf(cause)
  if (causeTag !== undefined && causeTag !== "BackupNotFound") {
    const inner = fromHomeserver(causeTag, typeof cause === "string" ? { _tag: cause } : cause)
    if (inner !== undefined) return inner
  }
  if ((tag === "RecoveryError" && reason === "NoBackup") || (tag === "RestoreError" && reason === "BackupVersionNotFound")) {
    return fail("NoBackup", "There is no key backup on the homeserver; run `matrix-backup create` to make one")
  }
  if (tag === "RestoreError" && reason === "NotPassphraseBackup") {
    return fail("WrongPassphrase", "The passphrase does not open this account's key backup; check it, or use the recovery key")
  }
  if (tag === "RestoreError" && reason === "NoDecryptionKey") {
    return fail("NoKey", "This device does not hold the backup key; run restore with --recovery-key (or MATRIX_RECOVERY_KEY)")
  }
  if (tag === "RestoreError" && reason === "UnsupportedAlgorithm") {
    return fail("UnsupportedBackup", "The backup on the homeserver uses an algorithm this tool cannot read")
  }
  if (tag === "RestoreError" && reason === "DecryptionKeyDoesNotMatch") {
    return fail("KeyMismatch", "The key this device holds does not open the backup on the homeserver; run restore with the recovery key")
  }
  if (tag === "SteadyStateError") {
    return fail("NotUploaded", "Not every key could be backed up; the rest stay waiting on this device, run the command again to retry")
  }
  if (tag === "SecretStorageError" || tag === "RecoveryError") {
    return fail("SecretStorage", "Secret Storage on this account could not be read or written; `matrix-backup status` shows its state")
  }
  return undefined
}

/** Maps any failure to a `CliError`; unknown values become `Internal` without their contents. */
export const toCliError = (error: unknown): CliError => {
  if (error instanceof CliError) return error
  const tag = tagOf(error)
  if (tag === "Interrupted") return fail("Interrupted", "Interrupted; what was done so far is kept, run the command again to go on")
  const mapped = tag === undefined ? undefined : (fromHomeserver(tag, error) ?? fromCore(tag, error))
  if (mapped !== undefined) return mapped
  if (tag === "StorageError") {
    return fail("Storage", "This device's local store could not be read or written; check the disk and the --state directory")
  }
  if (tag === "RecoveryKeyError") {
    const expected = Predicate.hasProperty(error, "expected") && typeof error.expected === "number" ? error.expected : undefined
    const actual = Predicate.hasProperty(error, "actual") && typeof error.actual === "number" ? error.actual : undefined
    return fail("BadRecoveryKey", `That is not a valid recovery key: ${recoveryKeyProblem(reasonOf(error), expected, actual)}. Check it against the one you saved; spaces do not matter`)
  }
  return fail("Internal", "Unexpected failure (set MATRIX_BACKUP_DEBUG=1 for details)")
}
