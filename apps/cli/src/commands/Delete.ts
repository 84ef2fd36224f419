/** `delete --version V`: deletes one backup version and its keys on the homeserver. */
import { Command, Options } from "@effect/cli"
import { HomeserverApi, Ids, KeyBackupEngine } from "@matrix-backup/core"
import { Effect, Schema } from "effect"
import { CliError, toCliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { runCommand } from "../Output.js"
import { openSession } from "../Session.js"

const options = { json: Flags.json, ...Flags.connection, version: Options.text("version").pipe(Options.withDescription("Backup version to delete")) }

const deleteVersion = (text: string) =>
  Effect.gen(function* () {
    const version = yield* Effect.mapError(
      Schema.decodeUnknown(Ids.BackupVersion)(text),
      () => new CliError({ code: "Usage", message: "--version must be a backup version" }),
    )
    const api = yield* HomeserverApi.HomeserverApi
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    yield* api.getBackupVersion(version).pipe(
      Effect.catchTag("BackupNotFound", () => Effect.fail(new CliError({ code: "NoBackup", message: `Backup version ${text} does not exist` }))),
      Effect.mapError(toCliError),
    )
    yield* Effect.mapError(engine.deleteKeyBackupVersion(version), toCliError)
    return { deleted: text }
  })

/** The `delete` command. */
export const remove = Command.make("delete", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(deleteVersion(o.version), session.layer)
    }),
    { human: (r) => `Deleted key backup version ${r.deleted}.`, json: (r) => r },
  ),
).pipe(Command.withDescription("Delete a backup version and all its keys on the homeserver"))
