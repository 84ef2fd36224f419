/** `restore (--recovery-key K | --passphrase P) [--room ID]...`: restore into the state store; resumable. */
import { Command, Options } from "@effect/cli"
import { BackupStore } from "@matrix-backup/core"
import { Effect } from "effect"
import { restore as restoreKeys } from "../backup/Restore.js"
import { unlock } from "../backup/Unlock.js"
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
  workers: Options.integer("workers").pipe(Options.withDefault(2), Options.withDescription("Batches decrypted at once")),
}

/** The `restore` command. */
export const restore = Command.make("restore", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const secret = yield* chooseSecret(o)
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(
        Effect.gen(function* () {
          const unlocked = yield* unlock(secret)
          const store = yield* BackupStore.BackupStore
          // Keep the key, as a client does after restoring: later `status` and uploads can use it.
          yield* store.storeBackupDecryptionKey(unlocked.key, unlocked.version)
          const progress = makeProgress("restore", unlocked.info.count ?? 0, { json: o.json })
          const rooms = o.rooms.length > 0 ? { rooms: o.rooms } : {}
          const result = yield* restoreKeys(unlocked, progress, { ...rooms, workers: o.workers })
          return { ...result, version: unlocked.version }
        }),
        session.layer,
      )
    }),
    {
      human: (r) =>
        [
          `Restored ${r.imported.toLocaleString("en-US")} of ${r.total.toLocaleString("en-US")} keys from backup version ${r.version}` +
            (r.resumed > 0 ? ` (${r.resumed.toLocaleString("en-US")} already restored by an earlier run)` : ""),
          `Failures: ${formatFailures(r.failures)}`,
          `Time: ${r.seconds.toFixed(2)} s, ${r.keysPerSecond.toLocaleString("en-US")} keys/s`,
        ].join("\n"),
      json: (r) => ({ total: r.total, imported: r.imported, failures: r.failures, seconds: r.seconds, keysPerSecond: r.keysPerSecond, version: r.version }),
    },
  ),
).pipe(Command.withDescription("Restore the server backup into this device's store (resumable)"))
