/**
 * `restore [--recovery-key K | --passphrase P] [--room ID]...`: restore into this device's store; resumable. A device
 * that already holds the backup's key (it restored before, or created the backup) needs no secret.
 */
import { KeyBackupEngine } from "@matrix-backup/core"
import { Effect, Option } from "effect"
import { defineCommand } from "../args/Command.js"
import { restore as restoreKeys } from "../backup/Restore.js"
import { heldBackupBehindMissingLatest, heldKeyOfOtherVersion, unlockAndKeepLocally } from "../backup/Unlock.js"
import { noBackupError, toCliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { count, formatFailures } from "../Format.js"
import type { OutputMode } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { givenSecret, secretOrAsk, type SecretInput } from "../Secrets.js"
import { noPreparation, runOnDevice } from "../Session.js"

const options = {
  ...Flags.secrets,
  room: Flags.rooms,
  ...Flags.decryption,
  ...Flags.connection,
  json: Flags.json,
}

/**
 * True when this device holds a key that opens the server's current backup, or (when the server reports none) a
 * version it still has: the restore reads the version of the key held.
 */
const holdsKey = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const check = yield* Effect.mapError(engine.checkKeyBackupAndEnable(true), toCliError)
  if (Option.isSome(check)) return check.value.trustInfo.matchesDecryptionKey
  if (Option.isSome(yield* heldBackupBehindMissingLatest)) return true
  return yield* noBackupError()
})

/**
 * Gives this device the backup's key: the secret given, the key it holds already, or a secret asked for. Returns what
 * is left to run alongside the restore: announcing a newly kept key (the engine's check), which the download need not
 * wait for, as the key was checked against the server's backup when read and the restore checks it again.
 */
const open = (input: SecretInput) =>
  Effect.gen(function* () {
    const given = yield* givenSecret(input)
    if (given === undefined && (yield* holdsKey)) return Effect.void
    const kept = yield* unlockAndKeepLocally(given ?? (yield* secretOrAsk(input, heldKeyOfOtherVersion)))
    return kept.announce
  })

const run = (mode: OutputMode, o: SecretInput & { readonly room: ReadonlyArray<string>; readonly concurrency: number }) =>
  Effect.gen(function* () {
    const rooms = yield* Flags.roomIds(o.room)
    const announce = yield* open(o)
    const restored = restoreKeys(makeProgress("restore", undefined, mode), { rooms, concurrency: o.concurrency })
    const [, result] = yield* Effect.all([announce, restored], { concurrency: "unbounded" })
    return result
  })

/** The `restore` command. */
export const restore = defineCommand({
  name: "restore",
  summary: "Restore the server's backup into this device's store (resumable)",
  description:
    "Downloads the backup as a stream, decrypts every key and stores it on this device, so it can read old messages. " +
    "An interrupted restore resumes where it stopped. Keys that cannot be decrypted are counted by reason, never fatal. " +
    "Asks for the recovery key on a terminal unless this device already holds the backup's key.",
  options,
  examples: [
    { command: "matrix-backup restore", says: "Asks for the recovery key (hidden), unless this device holds the key already" },
    { command: "matrix-backup restore --recovery-key \"EsTc ...\" --json", says: "For scripts; the key may also come from MATRIX_RECOVERY_KEY" },
    { command: "matrix-backup restore --room '!abc:example.org'", says: "Only one room's keys" },
  ],
  run: (o) =>
    runOnDevice(o, {
      prepare: noPreparation,
      body: (mode) => run(mode, o),
      decryptThreads: o.threads,
      render: {
        human: (r) =>
          [
            `Restored ${count(r.imported)} of ${count(r.total)} keys` + (r.skipped > 0 ? ` (${count(r.skipped)} already restored by an earlier run)` : ""),
            `Failures: ${formatFailures(r.failures)}`,
            `Time: ${r.seconds.toFixed(2)} s, ${count(r.keysPerSecond)} keys/s`,
          ].join("\n"),
        json: (r) => ({ total: r.total, imported: r.imported, skipped: r.skipped, failures: r.failures, seconds: r.seconds, keysPerSecond: r.keysPerSecond }),
      },
    }),
})
