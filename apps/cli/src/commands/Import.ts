/** `import --in FILE [--format element|json] [--export-passphrase P]`: add keys from a file and back them up. */
import { Command, Options } from "@effect/cli"
import { BackupStore } from "@matrix-backup/core"
import { Effect, Option, type Redacted } from "effect"
import { verdict } from "../backup/Trust.js"
import { currentBackup } from "../backup/Unlock.js"
import { uploadPending } from "../backup/Upload.js"
import { CliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { readKeyFile } from "../KeyFiles.js"
import { runCommand } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { openSession, type Session } from "../Session.js"

const options = {
  json: Flags.json,
  ...Flags.connection,
  in: Options.text("in").pipe(Options.withDescription("Key file to read")),
  format: Flags.format,
  exportPassphrase: Flags.exportPassphrase,
  workers: Options.integer("workers").pipe(Options.withDefault(2), Options.withDescription("Upload requests in flight")),
}

const importFile = (session: Session, path: string, format: "element" | "json", passphrase: Option.Option<Redacted.Redacted<string>>, workers: number) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const { keys, invalid } = yield* readKeyFile(path, format, Option.getOrUndefined(passphrase))
    const backup = yield* currentBackup()
    const local = yield* store.getBackupDecryptionKey()
    const trust = yield* verdict(backup.info, session.device, Option.map(local, (l) => l.key))
    if (!trust.trusted) {
      return yield* new CliError({
        code: "UntrustedBackup",
        message: `This device does not trust backup version ${backup.version} (${trust.reason}); run restore with the recovery key first`,
      })
    }
    const counts = yield* store.upsertRoomKeys(keys)
    yield* store.setBackupState({ activeVersion: backup.version, backupInfo: backup.info.auth_data.raw })
    const uploaded = yield* uploadPending({ version: backup.version, publicKey: backup.publicKey }, makeProgress("upload", 0), { workers })
    const pending = yield* store.countPending(backup.version)
    return { imported: counts.inserted + counts.replaced, invalid, uploaded, pending, version: backup.version }
  })

/** The `import` command. */
export const importKeys = Command.make("import", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(importFile(session, Flags.userPath(o.in), o.format, o.exportPassphrase, o.workers), session.layer)
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
