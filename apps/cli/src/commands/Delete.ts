/** `delete --version V [--force]`: deletes one backup version and its keys on the homeserver, after asking. */
import { HomeserverApi, Ids, KeyBackupEngine } from "@matrix-backup/core"
import { Effect, Schema } from "effect"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import { CliError, toCliError } from "../CliError.js"
import { requireConsent } from "../Consent.js"
import * as Flags from "../Flags.js"
import { count } from "../Format.js"
import { noPreparation, runOnDevice } from "../Session.js"

const options = {
  version: Opt.requiredText("V", "Backup version to delete (`matrix-backup status` shows the current one)"),
  force: Flags.force("Delete"),
  ...Flags.connection,
  json: Flags.json,
}

const deleteVersion = (text: string, force: boolean) =>
  Effect.gen(function* () {
    const version = yield* Effect.mapError(
      Schema.decodeUnknown(Ids.BackupVersion)(text),
      () => new CliError({ code: "Usage", message: "--version must be a backup version such as 3" }),
    )
    const api = yield* HomeserverApi.HomeserverApi
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const info = yield* api.getBackupVersion(version).pipe(
      Effect.catchTag("BackupNotFound", () =>
        Effect.fail(new CliError({ code: "NoBackup", message: `Backup version ${text} does not exist on the homeserver; \`matrix-backup status\` shows the current one` })),
      ),
      Effect.mapError(toCliError),
    )
    const keys = info.count ?? 0
    yield* requireConsent(force, {
      question: `Delete key backup version ${text} and the ${count(keys)} keys in it from the homeserver?`,
      refusal: `This would delete key backup version ${text} and its ${count(keys)} keys on the homeserver; add --force to delete it`,
    })
    yield* Effect.mapError(engine.deleteKeyBackupVersion(version), toCliError)
    return { deleted: text, keys }
  })

/** The `delete` command. */
export const remove = defineCommand({
  name: "delete",
  summary: "Delete a backup version and all its keys on the homeserver",
  description:
    "Deletes one key backup version and every key stored in it. Other devices that upload to it stop until a new " +
    "backup exists. Asks first on a terminal; scripts must add --force.",
  options,
  examples: [
    { command: "matrix-backup delete --version 3", says: "Asks, then deletes version 3" },
    { command: "matrix-backup delete --version 3 --force --json", says: "Deletes without asking and prints {\"deleted\": \"3\", \"keys\": N}" },
  ],
  run: (o) =>
    runOnDevice(o, {
      prepare: noPreparation,
      body: () => deleteVersion(o.version, o.force),
      render: { human: (r) => `Deleted key backup version ${r.deleted} and its ${count(r.keys)} keys.`, json: (r) => r },
    }),
})
