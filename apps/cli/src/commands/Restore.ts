/** `restore (--recovery-key K | --passphrase P) [--room ID]...`: restore into the state store; resumable. */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { openBackup } from "../backup/OpenBackup.js"
import { restore as restoreKeys } from "../backup/Restore.js"
import { CliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { runCommand } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { openSession } from "../Session.js"
import { chooseSecret, formatFailures } from "./Secret.js"

const options = {
  json: Flags.json,
  ...Flags.connection,
  ...Flags.secret,
  rooms: Flags.rooms,
  workers: Options.integer("workers").pipe(Options.withDefault(4), Options.withDescription("Batches decrypted at once")),
  threads: Options.integer("threads").pipe(Options.withDefault(0), Options.withDescription("Decryption worker threads (0: decrypt in the main thread)")),
}

/** The `restore` command. */
export const restore = Command.make("restore", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const secret = yield* chooseSecret(o)
      const session = yield* openSession(o, Flags.optionalPath(o.state), { decryptThreads: o.threads })
      return yield* Effect.provide(
        Effect.gen(function* () {
          const opened = yield* openBackup(secret)
          const progress = makeProgress("restore", 0, { json: o.json })
          const legacy = opened.via === "LegacyPassphrase" ? { legacyPassphrase: secret.value } : {}
          const result = yield* restoreKeys(progress, { rooms: o.rooms, workers: o.workers, ...legacy }).pipe(
            Effect.catchIf(
              (e) => opened.via === "LegacyPassphrase" && (e.code === "RestoreError" || e.code === "NoBackup"),
              () => Effect.fail(new CliError({ code: "WrongPassphrase", message: "The passphrase does not open this account's key backup" })),
            ),
          )
          return result
        }),
        session.layer,
      )
    }),
    {
      human: (r) =>
        [
          `Restored ${r.imported.toLocaleString("en-US")} of ${r.total.toLocaleString("en-US")} keys` +
            (r.skipped > 0 ? ` (${r.skipped.toLocaleString("en-US")} already restored by an earlier run)` : ""),
          `Failures: ${formatFailures(r.failures)}`,
          `Time: ${r.seconds.toFixed(2)} s, ${r.keysPerSecond.toLocaleString("en-US")} keys/s`,
        ].join("\n"),
      json: (r) => ({ total: r.total, imported: r.imported, skipped: r.skipped, failures: r.failures, seconds: r.seconds, keysPerSecond: r.keysPerSecond }),
    },
  ),
).pipe(Command.withDescription("Restore the server backup into this device's store (resumable)"))
