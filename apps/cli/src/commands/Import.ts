/** `import --in FILE [--format element|json] [--export-passphrase P]`: add keys from a file and back them up. */
import { Effect, type Redacted } from "effect"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import { backUp } from "../backup/Upload.js"
import { CliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { count } from "../Format.js"
import { isElementFile, type KeyFileFormat, readKeyFile, readKeyFileText } from "../KeyFiles.js"
import type { OutputMode } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { exportPassphraseOrAsk } from "../Secrets.js"
import { runOnDevice } from "../Session.js"

const options = {
  in: Opt.requiredText("FILE", "Key file to read: Element's encrypted export, or a JSON array of exported keys"),
  format: Opt.optionalChoice("File format (default: recognised from the content)", ["element", "json"]),
  exportPassphrase: Flags.exportPassphrase,
  ...Flags.connection,
  json: Flags.json,
}

const importFile = (mode: OutputMode, path: string, text: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const { keys, invalid } = yield* readKeyFile(path, text, format, passphrase)
    if (keys.length === 0) {
      return yield* new CliError({
        code: "NoValidKeys",
        message: `${path} holds no valid room key${invalid > 0 ? ` (${count(invalid)} entries are not exported Megolm keys)` : ""}; nothing was imported`,
      })
    }
    const done = yield* backUp(keys, makeProgress("upload", keys.length, mode))
    return { imported: done.added, alreadyPresent: done.alreadyPresent, invalid, uploaded: done.uploaded, pending: done.pending, version: done.version }
  })

type Result = Effect.Effect.Success<ReturnType<typeof importFile>>

const human = (r: Result) =>
  [
    `Imported ${count(r.imported)} new keys` +
      (r.alreadyPresent > 0 ? `; ${count(r.alreadyPresent)} were already on this device` : "") +
      (r.invalid > 0 ? `; ${count(r.invalid)} entries were not valid keys` : "") +
      ".",
    r.pending === 0
      ? `Backup version ${r.version}: ${count(r.uploaded)} keys uploaded, nothing waiting.`
      : `Backup version ${r.version}: ${count(r.uploaded)} keys uploaded, ${count(r.pending)} still waiting (run import or status again).`,
  ].join("\n")

/** The `import` command. */
export const importKeys = defineCommand({
  name: "import",
  summary: "Add keys from a key file to this device and back them up",
  description:
    "Reads an Element key file or a JSON array of exported keys, stores the keys on this device and uploads them to " +
    "the current backup (which this device must trust: it created it, or restored from it). Keys already here are kept once.",
  options,
  examples: [
    { command: "matrix-backup import --in keys.txt", says: "Asks for the key file's passphrase on a terminal" },
    { command: "matrix-backup import --in keys.json --json", says: "A JSON array; prints {\"imported\", \"alreadyPresent\", \"uploaded\", \"pending\", \"invalid\"}" },
  ],
  run: (o) => {
    const path = Flags.userPath(o.in)
    return runOnDevice(o, {
      prepare: () =>
        Effect.gen(function* () {
          const text = yield* readKeyFileText(path)
          const format = o.format ?? (isElementFile(text) ? "element" : "json")
          const passphrase = format === "element" ? yield* exportPassphraseOrAsk(o.exportPassphrase, "existing file") : undefined
          return { text, format, passphrase }
        }),
      body: (mode, file) => importFile(mode, path, file.text, file.format, file.passphrase),
      render: { human, json: ({ version: _, ...r }) => r },
    })
  },
})
