/** `import --in FILE [--format element|json] [--export-passphrase P]`: add keys from a file and back them up. */
import { Command, Options } from "@effect/cli"
import { Effect, Option, type Redacted } from "effect"
import { backUp } from "../backup/Upload.js"
import * as Flags from "../Flags.js"
import { type KeyFileFormat, readKeyFile } from "../KeyFiles.js"
import { runCommand } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { openSession } from "../Session.js"

const options = {
  json: Flags.json,
  ...Flags.connection,
  in: Options.text("in").pipe(Options.withDescription("Key file to read")),
  format: Options.choice("format", ["element", "json"]).pipe(
    Options.optional,
    Options.withDescription("File format (default: recognised from the content)"),
  ),
  exportPassphrase: Flags.exportPassphrase,
}

const importFile = (path: string, format: KeyFileFormat | "auto", passphrase: Option.Option<Redacted.Redacted<string>>, json: boolean) =>
  Effect.gen(function* () {
    const { keys, invalid } = yield* readKeyFile(path, format, Option.getOrUndefined(passphrase))
    const done = yield* backUp(keys, makeProgress("upload", keys.length, { json }))
    return { imported: done.added, invalid, uploaded: done.uploaded, pending: done.pending, version: done.version }
  })

/** The `import` command. */
export const importKeys = Command.make("import", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(importFile(Flags.userPath(o.in), Option.getOrElse(o.format, () => "auto" as const), o.exportPassphrase, o.json), session.layer)
    }),
    {
      human: (r) =>
        `Imported ${r.imported.toLocaleString("en-US")} keys` +
        (r.invalid > 0 ? ` (${r.invalid} entries were not valid keys)` : "") +
        `; uploaded ${r.uploaded.toLocaleString("en-US")} to backup version ${r.version}, ${r.pending} pending.`,
      json: (r) => ({ imported: r.imported, uploaded: r.uploaded, pending: r.pending, invalid: r.invalid }),
    },
  ),
).pipe(Command.withDescription("Import keys from a key file and back them up"))
