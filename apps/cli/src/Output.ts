/**
 * Where a command's words go. stdout carries only the result: a human summary, or with `--json` exactly one JSON
 * document. Everything else (progress, questions, narration) goes to stderr, and with `--json` only when stderr is a
 * terminal, so a script that reads stderr sees nothing but the one-line JSON error of a failure.
 */
import { Cause, Effect, Option } from "effect"
import { type CliError, type CommandError, internalError, interruptedError, toCliError } from "./CliError.js"

/** How this run reports: `json` is `--json`. */
export interface OutputMode {
  readonly json: boolean
}

/** The backup was deleted or replaced on the server while the command used it: exit 3, so scripts can tell. */
const BACKUP_CHANGED: ReadonlySet<string> = new Set(["BackupDeleted", "BackupReplaced"])

/** Exit code of a failed command; 2 for a command line that could not be used, 3 when the backup changed under it. */
export const exitCodeOf = (error: CliError): number => (error.code === "Usage" ? 2 : BACKUP_CHANGED.has(error.code) ? 3 : 1)

/** Whether narration and progress may be written to stderr in this mode. */
export const narrates = (mode: OutputMode): boolean => !mode.json || process.stderr.isTTY === true

/** Writes a line of narration (to stderr, see above). */
export const say = (mode: OutputMode, text: string): Effect.Effect<void> =>
  Effect.sync(() => {
    if (narrates(mode)) process.stderr.write(`${text}\n`)
  })

/** Prints the failure as one stderr line (JSON with `--json`) and sets the exit code. */
export const reportFailure = (error: CliError, mode: OutputMode): Effect.Effect<void> =>
  Effect.sync(() => {
    process.stderr.write(
      mode.json ? `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n` : `matrix-backup: ${error.message}\n`,
    )
    process.exitCode = exitCodeOf(error)
  })

/** Runs a command body and prints its result: `human(result)`, or `json(result)` with `--json`. */
export const runCommand = <A, E extends CommandError, R>(
  mode: OutputMode,
  body: Effect.Effect<A, E, R>,
  render: { readonly human: (a: A) => string; readonly json: (a: A) => unknown },
): Effect.Effect<void, never, R> =>
  body.pipe(
    Effect.matchCauseEffect({
      onSuccess: (result) =>
        Effect.sync(() => {
          process.stdout.write(mode.json ? `${JSON.stringify(render.json(result))}\n` : `${render.human(result)}\n`)
        }),
      onFailure: (cause) => {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure)) return reportFailure(toCliError(failure.value), mode)
        if (Cause.isInterruptedOnly(cause)) return reportFailure(interruptedError(), mode)
        // A defect is a bug: report it without its (possibly secret-bearing) contents, but keep the trace for debugging.
        if (process.env["MATRIX_BACKUP_DEBUG"] === "1") process.stderr.write(`${Cause.pretty(cause)}\n`)
        return reportFailure(internalError(), mode)
      },
    }),
  )
