/**
 * `export --out FILE [--format element|json] [--export-passphrase P] [--room ID]... [--force]`: the server backup
 * straight into a key file (nothing is kept in the state store). Never overwrites a file without --force or a yes, and
 * writes none when the backup was deleted while it was read.
 */
import { CryptoBackend, DecryptedBackup, HomeserverApi, type Ids } from "@matrix-backup/core"
import { type Context, Effect, Option, Stream } from "effect"
import { existsSync } from "node:fs"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import { heldKeyOfOtherVersion, unlock, unlockWithHeldKey } from "../backup/Unlock.js"
import { backupDeletedError, toCliError } from "../CliError.js"
import { requireConsent } from "../Consent.js"
import * as Flags from "../Flags.js"
import { count, formatFailures } from "../Format.js"
import { openWriter } from "../KeyFiles.js"
import type { OutputMode } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { exportPassphraseOrAsk, givenSecret, secretOrAsk, type SecretInput } from "../Secrets.js"
import { runOnDevice } from "../Session.js"

const options = {
  out: Opt.requiredText("FILE", "File to write (written whole or not at all)"),
  format: Opt.choice("element: Element's encrypted key file; json: a plain JSON array (unencrypted!)", ["element", "json"], "element"),
  exportPassphrase: Flags.exportPassphrase,
  room: Flags.rooms,
  force: Flags.force("Overwrite an existing --out file"),
  ...Flags.secrets,
  ...Flags.connection,
  json: Flags.json,
}

/** The backup opened with the key this device holds, or with the secret given (or asked for). */
const openForExport = (input: SecretInput) =>
  Effect.gen(function* () {
    const given = yield* givenSecret(input)
    if (given === undefined) {
      const held = yield* unlockWithHeldKey
      if (Option.isSome(held)) return held.value
    }
    return yield* unlock(given ?? (yield* secretOrAsk(input, heldKeyOfOtherVersion)))
  })

/** An export of a version deleted meanwhile fails as deleted and writes no file (core's `confirmVersion`). */
const stillThere = (api: Context.Tag.Service<HomeserverApi.HomeserverApi>, version: Ids.BackupVersion, seen: number, count: number, wholeBackup: boolean) =>
  DecryptedBackup.confirmVersion(api, version, { seen, count, wholeBackup }).pipe(
    Effect.catchTag("BackupNotFound", () => Effect.fail(backupDeletedError(version, "export"))),
    Effect.mapError(toCliError),
  )

const exportTo = (mode: OutputMode, file: string, o: SecretInput & { readonly format: "element" | "json"; readonly room: ReadonlyArray<string> }, passphrase: Parameters<typeof openWriter>[2]) =>
  Effect.gen(function* () {
    const rooms = o.room.length > 0 ? yield* Flags.roomIds(o.room) : undefined
    const unlocked = yield* openForExport(o)
    const api = yield* HomeserverApi.HomeserverApi
    const backend = yield* CryptoBackend.CryptoBackend
    // The server counts the whole backup only: chosen rooms' total is known once they are read.
    const progress = makeProgress("export", rooms === undefined ? (unlocked.info.count ?? 0) : undefined, mode)
    const writer = yield* openWriter(file, o.format, passphrase)
    const failures: Record<string, number> = {}
    let exported = 0
    let seen = 0
    yield* DecryptedBackup.backupEntries(api, unlocked.version, rooms).pipe(
      Stream.mapError((e) => (e._tag === "BackupNotFound" ? backupDeletedError(unlocked.version, "export") : toCliError(e))),
      DecryptedBackup.decryptInBatches(backend, unlocked.key),
      Stream.runForEach(({ entries, decrypted }) => {
        for (const failure of decrypted.failures) failures[failure.reason] = (failures[failure.reason] ?? 0) + 1
        exported += decrypted.keys.length
        seen += entries.length
        return Effect.zipRight(writer.write(decrypted.keys), progress.update(seen, rooms === undefined ? Math.max(seen, unlocked.info.count ?? 0) : undefined))
      }),
      Effect.zipRight(Effect.suspend(() => stillThere(api, unlocked.version, seen, unlocked.info.count ?? 0, rooms === undefined))),
      Effect.zipRight(writer.close),
      Effect.tapError(() => writer.abort),
    )
    yield* progress.update(seen, seen)
    yield* progress.finish
    return { file, exported, failures }
  })

/** The `export` command. */
export const exportKeys = defineCommand({
  name: "export",
  summary: "Write the server's backup to an Element key file or a JSON array",
  description:
    "Decrypts the backup on the homeserver and writes every key to a file that Element (and this command's import) " +
    "can read. Nothing is stored on this device. An existing file is replaced only with --force or a yes on a terminal.",
  options,
  examples: [
    { command: "matrix-backup export --out keys.txt", says: "Asks for the key file's passphrase (and the recovery key if this device lacks the backup key)" },
    { command: "matrix-backup export --out keys.json --format json --force", says: "A plain JSON array, replacing keys.json" },
  ],
  run: (o) => {
    const file = Flags.userPath(o.out)
    return runOnDevice(o, {
      prepare: () =>
        Effect.gen(function* () {
          if (existsSync(file)) {
            yield* requireConsent(o.force, {
              question: `${file} exists. Replace it?`,
              refusal: `${file} already exists; choose another --out, or add --force to replace it`,
            })
          }
          return o.format === "element" ? yield* exportPassphraseOrAsk(o.exportPassphrase, "new file") : undefined
        }),
      body: (mode, passphrase) => exportTo(mode, file, o, passphrase),
      render: { human: (r) => `Exported ${count(r.exported)} keys to ${r.file}\nFailures: ${formatFailures(r.failures)}`, json: (r) => r },
    })
  },
})
