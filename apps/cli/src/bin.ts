#!/usr/bin/env node
/** Entry point of the `matrix-backup` command: runs the CLI on Node and maps usage errors to the exit contract. */
import { HelpDoc, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { run } from "./Cli.js"
import { CliError } from "./CliError.js"
import { reportFailure } from "./Output.js"

// Files this process creates (state directory, SQLite store, key files) are readable by the owner only.
process.umask(0o077)

// A reader that went away (`matrix-backup demo | head`) ends the command quietly, as other command-line tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
})

const json = process.argv.includes("--json")

const ESC = String.fromCharCode(27)

/** Text without ANSI colour sequences (ESC [ ... m). */
const plain = (text: string): string =>
  text
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.slice(part.indexOf("m") + 1)))
    .join("")

/** The first line of @effect/cli's explanation, without terminal colours. */
const usageMessage = (error: ValidationError.ValidationError): string =>
  plain(HelpDoc.toAnsiText(error.error)).trim().split("\n")[0] ?? "Invalid command line"

const program = run(process.argv).pipe(
  Effect.catchAll((error) =>
    ValidationError.isValidationError(error)
      ? // A usage problem, reported in the same one-line form as every other failure.
        Effect.sync(() => {
          const message = usageMessage(error)
          process.stderr.write(`matrix-backup: ${message}\n`)
          if (json) process.stdout.write(`${JSON.stringify({ error: { code: "Usage", message } })}\n`)
          process.exitCode = 2
        })
      : reportFailure(new CliError({ code: "Internal", message: "Unexpected failure" }), json),
  ),
  // @effect/cli writes usage problems with Console.error; they are reported above instead (help still goes to stdout).
  (effect) => Console.consoleWith((current) => Effect.withConsole(effect, { ...current, error: () => Effect.void })),
  Effect.provide(NodeContext.layer),
)

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isFailure(exit)) {
    const failure = Cause.failureOption(exit.cause)
    process.stderr.write(`matrix-backup: ${Option.isSome(failure) ? "failed" : "internal error"}\n`)
    process.exitCode = 1
  }
})
