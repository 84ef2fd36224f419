/** `create [--passphrase P]`: bootstrap Secret Storage and a new backup; prints the recovery key once. */
import { Command, Options } from "@effect/cli"
import { Effect, Redacted } from "effect"
import { createBackup } from "../backup/Create.js"
import * as Flags from "../Flags.js"
import { runCommand } from "../Output.js"
import { openSession } from "../Session.js"

const options = {
  json: Flags.json,
  ...Flags.connection,
  passphrase: Options.redacted("passphrase").pipe(
    Options.optional,
    Options.withDescription("Derive the Secret Storage key from this passphrase (the recovery key still works)"),
  ),
}

/** The `create` command. */
export const create = Command.make("create", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(createBackup(o.passphrase), session.layer)
    }),
    {
      human: (r) =>
        [
          `Created Secret Storage and key backup version ${r.backupVersion}.`,
          "",
          "Recovery key (shown once; keep it somewhere safe, it unlocks your message history):",
          "",
          `    ${Redacted.value(r.recoveryKey)}`,
          "",
        ].join("\n"),
      json: (r) => ({ recoveryKey: Redacted.value(r.recoveryKey), backupVersion: r.backupVersion }),
    },
  ),
).pipe(Command.withDescription("Set up Secret Storage and a new key backup (replaces existing backup versions)"))
