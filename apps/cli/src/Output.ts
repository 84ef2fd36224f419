/**
 * How a command ends: on success a human summary (or, with `--json`, one JSON object as the last stdout line);
 * on failure one line on stderr, the JSON error object with `--json`, and a non-zero exit code.
 */
import { Cause, Effect, Option } from "effect"
import { type CliError, toCliError } from "./CliError.js"

/** Exit code of a failed command. */
export const EXIT_FAILURE = 1

/** Prints the failure and sets the exit code. */
export const reportFailure = (error: CliError, json: boolean): Effect.Effect<void> =>
  Effect.sync(() => {
    process.stderr.write(`matrix-backup: ${error.message}\n`)
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`)
    process.exitCode = EXIT_FAILURE
  })

/** Runs a command body and prints its result: `human(result)` on a terminal, `toJson(result)` with `--json`. */
export const runCommand = <A, E, R>(
  json: boolean,
  body: Effect.Effect<A, E, R>,
  render: { readonly human: (a: A) => string; readonly json: (a: A) => unknown },
): Effect.Effect<void, never, R> =>
  body.pipe(
    Effect.matchCauseEffect({
      onSuccess: (result) =>
        Effect.sync(() => {
          process.stdout.write(json ? `${JSON.stringify(render.json(result))}\n` : `${render.human(result)}\n`)
        }),
      onFailure: (cause) => {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure)) return reportFailure(toCliError(failure.value), json)
        if (Cause.isInterruptedOnly(cause)) return reportFailure(toCliError({ _tag: "Interrupted", message: "Interrupted" }), json)
        // A defect is a bug: report it without its (possibly secret-bearing) contents, but keep the trace for debugging.
        const detail = process.env["MATRIX_BACKUP_DEBUG"] === "1" ? Cause.pretty(cause) : undefined
        if (detail !== undefined) process.stderr.write(`${detail}\n`)
        return reportFailure(toCliError({ _tag: "Internal", message: "Internal error (set MATRIX_BACKUP_DEBUG=1 for details)" }), json)
      },
    }),
  )
