/**
 * The `matrix-backup` command: finds the subcommand and hands it the words after its name. Program-wide words are
 * read only before a subcommand (`matrix-backup --version`), so they can never take a subcommand's option.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import type { Command } from "./args/Command.js"
import { usageError } from "./args/Command.js"
import { helpWidth, rootHelp } from "./args/Help.js"
import { create } from "./commands/Create.js"
import { remove } from "./commands/Delete.js"
import { demoCommand } from "./commands/Demo.js"
import { doctorCommand } from "./commands/Doctor.js"
import { exportKeys } from "./commands/Export.js"
import { importKeys } from "./commands/Import.js"
import { restore } from "./commands/Restore.js"
import { statusCommand } from "./commands/Status.js"
import { reportFailure } from "./Output.js"
import { columnsOf } from "./terminal/Terminal.js"

/** Every subcommand, in the order help lists them. */
export const commands: ReadonlyArray<Command> = [demoCommand, statusCommand, doctorCommand, create, restore, exportKeys, importKeys, remove]

const versionIn = (url: URL): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(url, "utf8"))
    const ours = typeof parsed === "object" && parsed !== null && "name" in parsed && parsed.name === "@matrix-backup/cli"
    return ours && "version" in parsed && typeof parsed.version === "string" ? parsed.version : undefined
  } catch {
    return undefined
  }
}

/** Set by the bundler to this package's version (scripts/bundle.mjs); absent when run from the tsc build. */
declare const MATRIX_BACKUP_CLI_VERSION: string | undefined

/** This package's version: the bundle's, or the one in package.json beside dist/. */
export const version = (): string =>
  typeof MATRIX_BACKUP_CLI_VERSION === "string" ? MATRIX_BACKUP_CLI_VERSION : (versionIn(new URL("../package.json", import.meta.url)) ?? "unknown")

const write = (stream: NodeJS.WriteStream, text: string) => Effect.sync(() => void stream.write(text))

/** Runs the command line `argv` (without `node` and the script). */
export const main = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): Effect.Effect<void> => {
  const [first, ...rest] = argv
  const help = (stream: NodeJS.WriteStream) => write(stream, rootHelp(commands, helpWidth(columnsOf(stream))))
  if (first === undefined) return Effect.zipRight(help(process.stderr), Effect.sync(() => void (process.exitCode = 2)))
  if (first === "--help" || first === "-h") return help(process.stdout)
  if (first === "--version" || first === "-V") return write(process.stdout, `${version()}\n`)
  if (first === "help") {
    const topic = commands.find((c) => c.name === rest[0])
    return topic === undefined ? help(process.stdout) : topic.start(["--help"], env)
  }
  const command = commands.find((c) => c.name === first)
  if (command === undefined) {
    const problem = first.startsWith("-") ? `${first} goes after a command` : `unknown command "${first}"`
    return reportFailure(usageError(problem), { json: argv.includes("--json") })
  }
  return command.start(rest, env)
}
