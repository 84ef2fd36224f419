/**
 * The one error every command ends with: a stable `code` for scripts and a one-line `message` for people that says
 * what happened and what to do next. `toCliError` maps every typed failure a command can meet, by its tag and
 * exhaustively: a new error type in `CommandError` does not compile until it has its words here.
 */
import { type BackupStore, HomeserverError, type KeyBackupEngine, type Recovery, type RecoveryKey, type RestoreError, type SecretStorage } from "@matrix-backup/core"
import { Data, Match } from "effect"
import { count, serverAnswer } from "./Format.js"

/** A failure as the command line reports it (`{"error": {"code", "message"}}` with `--json`). */
export class CliError extends Data.TaggedError("CliError")<{
  readonly code: string
  readonly message: string
}> {}

/** Every failure a command body may end with. */
export type CommandError =
  | CliError
  | HomeserverError.HomeserverApiError
  | RecoveryKey.RecoveryKeyError
  | SecretStorage.SecretStorageError
  | Recovery.RecoveryError
  | Recovery.DecryptionKeyDoesNotMatch
  | RestoreError.RestoreError
  | BackupStore.StorageError
  | KeyBackupEngine.EngineError
  | KeyBackupEngine.SteadyStateError

const fail = (code: string, message: string) => new CliError({ code, message })

/** Recovery-key format problems, in words. */
export const recoveryKeyProblem = (error: RecoveryKey.RecoveryKeyError): string => {
  switch (error.reason) {
    case "Parity":
      return "a character is mistyped (its check digit does not match)"
    case "Base58":
      return "it contains a character recovery keys never use (0, O, I, l or punctuation)"
    case "Prefix":
      return "it does not start like a recovery key (they start with Es)"
    case "Length":
      return error.actual !== undefined && error.expected !== undefined && error.actual > error.expected ? "the key is too long" : "the key is too short"
  }
}

const transportWords = (reason: HomeserverError.TransportError["reason"]) =>
  reason === "Timeout" ? "it did not answer in time" : reason === "Aborted" ? "the request was cancelled" : "the connection failed"

const unauthorized = (errcode: string) =>
  fail("Unauthorized", `The homeserver rejected the access token (${errcode}): log in again and pass the new token with --access-token or MATRIX_ACCESS_TOKEN`)
const lostConnection = (reason: HomeserverError.TransportError["reason"]) =>
  fail("Unreachable", `Lost the connection to the homeserver (${transportWords(reason)}); run the command again`)
const rateLimited = () => fail("RateLimited", "The homeserver kept asking to slow down; wait a minute and run the command again")
/** The homeserver has no backup at all. */
export const noBackupError = (): CliError => fail("NoBackup", "There is no key backup on the homeserver; run `matrix-backup create` first")

/** The person at the terminal said no, or pressed Ctrl-C or Ctrl-D. */
export const cancelledError = (): CliError => fail("Cancelled", "Cancelled; nothing was changed")
const secretStorage = () => fail("SecretStorage", "Secret Storage on this account could not be read or written; `matrix-backup status` shows its state")
const storage = () => fail("Storage", "This device's local store could not be read or written; check the disk and the --state directory")

/** The homeserver port's failures. */
const homeserver = Match.typeTags<HomeserverError.HomeserverApiError>()({
  Unauthorized: (e) => unauthorized(e.errcode),
  TransportError: (e) => lostConnection(e.reason),
  BackupNotFound: () => fail("NoBackup", "The homeserver has no such key backup; `matrix-backup status` shows the current one"),
  WrongBackupVersion: () => fail("WrongBackupVersion", "Another device replaced the key backup meanwhile; run `matrix-backup status`, then the command again"),
  RateLimited: rateLimited,
  Forbidden: (e) => fail("Forbidden", `The homeserver refused this account: ${e.message}`),
  TooLarge: () => fail("TooLarge", "The homeserver refused a request as too large"),
  HomeserverError: (e) => fail("HomeserverError", `The homeserver answered with an error (HTTP ${e.status}): ${e.message}; try again later`),
  MalformedResponse: (e) => fail("MalformedResponse", `The homeserver sent an answer this tool cannot read (${e.endpoint}); is the URL a Matrix homeserver?`),
})

const restore = (e: RestoreError.RestoreError): CliError => {
  switch (e.reason) {
    case "HomeserverFailure":
    case "StoreFailure":
    case "Aborted":
      return fail("RestoreInterrupted", "The restore stopped before the end (connection or disk); run the restore again to resume where it stopped")
    case "BackupVersionNotFound":
      // A named version that is gone was deleted since this device last saw it.
      return e.version === undefined ? noBackupError() : backupDeletedError(e.version, "restore")
    case "NotPassphraseBackup":
      return fail("WrongPassphrase", "The passphrase does not open this account's key backup; check it, or use the recovery key")
    case "NoDecryptionKey":
      return fail("NoKey", "This device does not hold the backup key; run restore with --recovery-key (or MATRIX_RECOVERY_KEY)")
    case "UnsupportedAlgorithm":
      return fail("UnsupportedBackup", "The backup on the homeserver uses an algorithm this tool cannot read")
    case "DecryptionKeyDoesNotMatch":
      return fail("KeyMismatch", "The key this device holds does not open the backup on the homeserver; run restore with the recovery key")
  }
}

/** An engine step that failed because of the homeserver keeps the homeserver's words. */
const engine = (e: KeyBackupEngine.EngineError): CliError => {
  if (e.reason === "NotFound") return noBackupError()
  if (e.reason === "Storage") return storage()
  if (e.reason === "SecretStorage") return secretStorage()
  if (e.cause === "RateLimited") return rateLimited()
  if (e.cause === "Unauthorized") return unauthorized(e.errcode ?? "M_UNKNOWN_TOKEN")
  if (e.cause === "TransportError") return lostConnection("Network")
  return fail("HomeserverError", `The homeserver refused a backup step (${e.errcode ?? "no error code"}); try again later`)
}

const waiting = (n: number | undefined) => (n === undefined ? "the keys not on it" : `${n} keys`)

/**
 * Where the keys are after a replace, as `status` counts them: those sent to the old version are in no current backup
 * either, so the keys still waiting are not the whole story.
 */
const whereReplaced = (e: KeyBackupEngine.SteadyStateError): string => {
  const { remaining, total, notInCurrentBackup } = e
  if (remaining === undefined) return "the keys not on it are still waiting on this device"
  const split =
    total === undefined || total === remaining
      ? `${count(remaining)} keys were not uploaded and are still waiting on this device`
      : `${count(total - remaining)} keys were backed up to version ${e.version ?? "?"} only and ${count(remaining)} were not uploaded`
  return notInCurrentBackup === undefined ? split : `${split}; ${count(notInCurrentBackup)} keys on this device are not in the current backup`
}

/** Why uploads stopped before every key was on the server, in words that say where the keys are. */
const notUploaded = (e: KeyBackupEngine.SteadyStateError): CliError => {
  switch (e.reason) {
    case "VersionReplaced":
      return fail(
        "BackupReplaced",
        `Backup version ${e.version ?? "?"} was replaced on the server${e.currentVersion === undefined ? "" : ` by version ${e.currentVersion}`}; ` +
          `${whereReplaced(e)}. Run \`matrix-backup restore\` with the new backup's recovery key, then import again`,
      )
    case "VersionDeleted":
      return fail(
        "BackupDeleted",
        `Backup version ${e.version ?? "?"} was deleted on the server; ${waiting(e.remaining)} on this device are backed up nowhere. ` +
          "Run `matrix-backup create` to make a new backup",
      )
    case "Rejected": {
      const answer = serverAnswer(e.status, e.errcode, e.serverMessage)
      return fail(
        "UploadRejected",
        `The homeserver keeps refusing uploads to backup version ${e.version ?? "?"} (${answer}); ${waiting(e.remaining)} are still waiting on this device. Run the command again later`,
      )
    }
    default:
      return fail("NotUploaded", "Not every key could be backed up; the rest stay waiting on this device, run the command again to retry")
  }
}

/**
 * The backup a restore or export was reading was deleted meanwhile: no file was written, and a restore kept only the
 * `kept` keys it had stored before (of rooms read before the delete, with `--room`), if any.
 */
export const backupDeletedError = (version: string, what: "restore" | "export", kept = 0): CliError =>
  fail(
    "BackupDeleted",
    (kept > 0
      ? `Backup version ${version} was deleted on the server while its keys were read; the ${count(kept)} keys read before that are on this device, the rest could not be restored. `
      : `Backup version ${version} was deleted on the server before its keys could be read; ${what === "export" ? "no file was written" : "nothing was restored"}. `) +
      "`matrix-backup status` shows what the server has now",
  )

/** Maps a command's failure to its code and words. */
export const toCliError = (error: CommandError): CliError =>
  Match.value(error).pipe(
    Match.tagsExhaustive({
      CliError: (e) => e,
      BackupNotFound: homeserver,
      WrongBackupVersion: homeserver,
      RateLimited: homeserver,
      Unauthorized: homeserver,
      Forbidden: homeserver,
      TooLarge: homeserver,
      HomeserverError: homeserver,
      TransportError: homeserver,
      MalformedResponse: homeserver,
      RecoveryKeyError: (e) =>
        fail("BadRecoveryKey", `That is not a valid recovery key: ${recoveryKeyProblem(e)}. Check it against the one you saved; spaces do not matter`),
      SecretStorageError: secretStorage,
      RecoveryError: (e) => (e.reason === "NoBackup" ? noBackupError() : e.reason === "Storage" ? storage() : secretStorage()),
      DecryptionKeyDoesNotMatch: () =>
        fail("KeyMismatch", "The key in Secret Storage is not the key of the backup on the homeserver (the backup was replaced?); `matrix-backup status` says more"),
      RestoreError: (e) => (e.reason !== "HomeserverFailure" && HomeserverError.isHomeserverApiError(e.cause) && e.cause._tag !== "BackupNotFound" ? homeserver(e.cause) : restore(e)),
      StorageError: storage,
      EngineError: engine,
      SteadyStateError: notUploaded,
    }),
  )

/** A failure that is not one of ours (a defect): no contents, a pointer to the debug switch. */
export const internalError = (): CliError => fail("Internal", "Unexpected failure (set MATRIX_BACKUP_DEBUG=1 for details)")

/** The run was interrupted (Ctrl-C). */
export const interruptedError = (): CliError => fail("Interrupted", "Interrupted; what was done so far is kept, run the command again to go on")
