#!/usr/bin/env -S node --max-old-space-size=1024
/**
 * Entry point of the `matrix-backup` command on Node. The heap limit (also in package.json's script) keeps V8 from
 * letting garbage grow to several times the live heap on a big machine: a restore keeps about 20 MB live.
 */
import { Effect } from "effect"
import { main } from "./Cli.js"

// Files this process creates (state directory, SQLite store, key files) are readable by the owner only.
process.umask(0o077)

// A reader that went away (`matrix-backup demo | head`) ends the command quietly, as other command-line tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
})

Effect.runPromise(main(process.argv.slice(2), process.env)).catch(() => {
  process.stderr.write("matrix-backup: internal error (set MATRIX_BACKUP_DEBUG=1 for details)\n")
  process.exitCode = 1
})
