/**
 * A subcommand: its help (summary, description, options, examples) and what it runs with the typed option values.
 * `start` reads the words after the command name: `--help` prints the help, a bad command line is a usage error.
 */
import { Effect, Either } from "effect"
import { CliError } from "../CliError.js"
import { reportFailure } from "../Output.js"
import { columnsOf } from "../terminal/Terminal.js"
import { type CommandHelp, commandHelp, type Example, helpWidth } from "./Help.js"
import type { Opt, Values } from "./Options.js"
import { parseCommandLine } from "./ParseArgs.js"

/** A subcommand ready to start. */
export interface Command extends CommandHelp {
  readonly start: (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>) => Effect.Effect<void>
}

/** What a command file declares. */
export interface CommandSpec<O extends Record<string, Opt<unknown>>> {
  readonly name: string
  /** One line, shown in the command list. */
  readonly summary: string
  /** A short paragraph, shown in the command's help. */
  readonly description: string
  readonly options: O
  readonly examples: ReadonlyArray<Example>
  /** Runs with the decoded options; prints its own result (see Output.ts). */
  readonly run: (values: Values<O>) => Effect.Effect<void>
}

/** A usage problem, reported like every other failure, pointing at the command's help. */
export const usageError = (problem: string, command?: string): CliError =>
  new CliError({
    code: "Usage",
    message: `${problem}; see \`matrix-backup ${command === undefined ? "" : `${command} `}--help\``,
  })

/** Turns a declaration into a startable command. */
export const defineCommand = <O extends Record<string, Opt<unknown>>>(spec: CommandSpec<O>): Command => ({
  name: spec.name,
  summary: spec.summary,
  description: spec.description,
  options: spec.options,
  examples: spec.examples,
  start: (argv, env) => {
    const parsed = parseCommandLine(spec.options, argv, env)
    if (Either.isLeft(parsed)) return reportFailure(usageError(parsed.left, spec.name), { json: argv.includes("--json") })
    if (parsed.right._tag === "Help") return Effect.sync(() => void process.stdout.write(commandHelp(spec, helpWidth(columnsOf(process.stdout)))))
    return spec.run(parsed.right.values)
  },
})
