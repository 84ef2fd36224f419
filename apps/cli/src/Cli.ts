/** The `matrix-backup` command and its subcommands. */
import { Command } from "@effect/cli"
import { create } from "./commands/Create.js"
import { remove } from "./commands/Delete.js"
import { demoCommand } from "./commands/Demo.js"
import { exportKeys } from "./commands/Export.js"
import { importKeys } from "./commands/Import.js"
import { restore } from "./commands/Restore.js"
import { statusCommand } from "./commands/Status.js"

/** The root command. */
export const root = Command.make("matrix-backup").pipe(
  Command.withDescription("Matrix server-side key backup from the terminal"),
  Command.withSubcommands([demoCommand, statusCommand, create, restore, exportKeys, importKeys, remove]),
)

/** Parses argv (as `process.argv`) and runs the command. */
export const run = Command.run(root, { name: "matrix-backup", version: "0.1.0" })
