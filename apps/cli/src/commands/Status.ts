/** `status`: the server's backup, whether this device trusts it and why, local counts and the recovery (4S) state. */
import { BackupStore, KeyBackupEngine, Recovery } from "@matrix-backup/core"
import { Effect, Option } from "effect"
import { defineCommand } from "../args/Command.js"
import { toCliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { count } from "../Format.js"
import { noPreparation, runOnDevice, type Session } from "../Session.js"
import { notBackedUp, localText, recoveryText, trustText } from "./StatusText.js"

const options = { ...Flags.connection, json: Flags.json }

const recoveryOf = (state: Recovery.RecoveryState) => {
  switch (state._tag) {
    case "Ready":
      return { state: "Ready", reason: null }
    case "NotReady":
      return { state: "NotReady", reason: state.reason }
    case "Error":
      return { state: "Error", reason: state.cause }
    case "Unknown":
      return { state: "Unknown", reason: null }
  }
}

const status = (session: Session) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const store = yield* BackupStore.BackupStore
    const recovery = yield* Recovery.Recovery
    const check = yield* engine.checkKeyBackupAndEnable(true)
    const info = Option.map(check, (c) => c.backupInfo)
    const trust = Option.isSome(info) ? yield* engine.isKeyBackupTrusted(info.value) : undefined
    const version = Option.flatMap(info, (i) => Option.fromNullable(i.version))
    const pending = Option.isSome(version) ? yield* Effect.mapError(store.countPending(version.value), toCliError) : 0
    const total = yield* Effect.mapError(store.countTotal(), toCliError)
    const local = yield* Effect.mapError(store.getBackupDecryptionKey(), toCliError)
    const recoveryState = yield* recovery.recoveryState
    const state = yield* engine.state
    const uploads = state._tag
    return {
      userId: session.device.userId,
      deviceId: session.device.deviceId,
      backup: Option.match(info, {
        onNone: () => null,
        onSome: (i) => ({ version: i.version ?? null, algorithm: i.algorithm, count: i.count ?? 0, etag: i.etag ?? null }),
      }),
      trust: trust === undefined ? null : { trusted: trust.trusted, matchesDecryptionKey: trust.matchesDecryptionKey, details: trust.details },
      pending,
      total,
      notBackedUp: notBackedUp(total, pending, Option.isSome(info), uploads),
      local: { stateDir: session.device.dir, decryptionKeyVersion: Option.match(local, { onNone: () => null, onSome: (l) => l.version }) },
      uploads,
      recovery: recoveryOf(recoveryState),
      recoveryState,
      notCurrent: state._tag === "Disabled" && state.reason === "NotCurrent",
    }
  })

type Status = Effect.Effect.Success<ReturnType<typeof status>>

const human = (r: Status) =>
  [
    `Account ${r.userId}, device ${r.deviceId} (state in ${r.local.stateDir})`,
    r.backup === null
      ? "Backup: none on the homeserver."
      : `Backup: version ${r.backup.version} on the homeserver, ${count(r.backup.count)} keys (${r.backup.algorithm}).`,
    ...(r.trust === null ? [] : [trustText(r.trust, r.notCurrent)]),
    localText(r.total, r.pending, r.backup !== null, r.uploads),
    recoveryText(r.recoveryState),
  ].join("\n")

/** The `status` command. */
export const statusCommand = defineCommand({
  name: "status",
  summary: "Show the server's backup, whether this device trusts it and why, local counts and recovery",
  description:
    "Reads the homeserver's current key backup, checks its signatures, and says whether this device uploads to it, " +
    "how many keys it holds and how many are waiting, and whether Secret Storage lets a new device restore. Changes nothing.",
  options,
  examples: [
    { command: "matrix-backup status", says: "The verdicts in words, with what to do next" },
    { command: "matrix-backup status --json", says: "The same as one JSON document, for scripts" },
  ],
  run: (o) => runOnDevice(o, { prepare: noPreparation, body: (_mode, _prepared, session) => status(session), render: { human, json: ({ recoveryState: _, notCurrent: _n, ...r }) => r } }),
})
