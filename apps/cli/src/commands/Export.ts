/**
 * `export (--recovery-key K | --passphrase P) --out FILE [--format element|json] [--export-passphrase P] [--room ID]...`:
 * the server backup straight into a key file (nothing is kept in the state store).
 */
import { Command, Options } from "@effect/cli"
import { Effect, Either, Option, Stream } from "effect"
import { countFailure, decryptedBatches } from "../backup/Download.js"
import { unlock } from "../backup/Unlock.js"
import { CliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { openWriter } from "../KeyFiles.js"
import { runCommand } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { openSession } from "../Session.js"
import { chooseSecret, formatFailures } from "./Secret.js"

const options = {
  json: Flags.json,
  ...Flags.connection,
  ...Flags.secret,
  out: Options.text("out").pipe(Options.withDescription("File to write")),
  format: Flags.format,
  exportPassphrase: Flags.exportPassphrase,
  rooms: Flags.rooms,
}

/** The `export` command. */
export const exportKeys = Command.make("export", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const secret = yield* chooseSecret(o)
      const passphrase = Option.getOrUndefined(o.exportPassphrase)
      if (o.format === "element" && passphrase === undefined) {
        return yield* new CliError({ code: "Usage", message: "An Element key file needs --export-passphrase (or use --format json)" })
      }
      const file = Flags.userPath(o.out)
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(
        Effect.gen(function* () {
          const unlocked = yield* unlock(secret)
          const progress = makeProgress("export", unlocked.info.count ?? 0, { json: o.json })
          const writer = yield* openWriter(file, o.format, passphrase)
          const failures: Record<string, number> = {}
          let exported = 0
          let seen = 0
          yield* decryptedBatches(unlocked, o.rooms.length > 0 ? { rooms: o.rooms } : {}).pipe(
            Stream.runForEach((batch) => {
              const keys = batch.flatMap((item) => (Either.isRight(item.result) ? [item.result.right] : []))
              for (const item of batch) if (Either.isLeft(item.result)) countFailure(failures, item.result.left)
              exported += keys.length
              seen += batch.length
              return Effect.zipRight(writer.write(keys), progress.update(seen, Math.max(seen, unlocked.info.count ?? 0)))
            }),
            Effect.zipRight(writer.close),
            Effect.tapError(() => writer.abort),
          )
          yield* progress.finish
          return { file, exported, failures }
        }),
        session.layer,
      )
    }),
    {
      human: (r) => `Exported ${r.exported.toLocaleString("en-US")} keys to ${r.file}\nFailures: ${formatFailures(r.failures)}`,
      json: (r) => r,
    },
  ),
).pipe(Command.withDescription("Export the server backup to an Element key file or a JSON array"))
