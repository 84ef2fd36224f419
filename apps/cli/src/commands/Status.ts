/** `status`: the server's backup, the detailed trust verdict, local counts and the recovery (4S) state. */
import { Command } from "@effect/cli"
import { BackupStore, KeyBackupEngine, Recovery, TrustVerdict } from "@matrix-backup/core"
import { Effect, Option } from "effect"
import { toCliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { runCommand } from "../Output.js"
import { openSession, type Session } from "../Session.js"

const options = { json: Flags.json, ...Flags.connection }

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
    const backup = Option.match(info, {
      onNone: () => null,
      onSome: (i) => ({ version: i.version ?? null, algorithm: i.algorithm, count: i.count ?? 0, etag: i.etag ?? null }),
    })
    return {
      userId: session.device.userId,
      deviceId: session.device.deviceId,
      backup,
      trust: trust === undefined ? null : { trusted: trust.trusted, matchesDecryptionKey: trust.matchesDecryptionKey, details: trust.details },
      pending,
      total,
      local: { stateDir: session.device.dir, decryptionKeyVersion: Option.match(local, { onNone: () => null, onSome: (l) => l.version }) },
      uploads: (yield* engine.state)._tag,
      recovery: recoveryOf(yield* recovery.recoveryState),
    }
  })

type Status = Effect.Effect.Success<ReturnType<typeof status>>

const human = (r: Status) => {
  const lines = [`Account ${r.userId}, device ${r.deviceId}`]
  if (r.backup === null) lines.push("Backup: none on the homeserver")
  else lines.push(`Backup: version ${r.backup.version}, ${r.backup.algorithm}, ${r.backup.count.toLocaleString("en-US")} keys, etag ${r.backup.etag}`)
  if (r.trust !== null) {
    lines.push(`Trust: ${r.trust.trusted ? "trusted" : "NOT trusted"}; decryption key: ${r.trust.details.decryptionKey}`)
    for (const check of TrustVerdict.allChecks(r.trust.details)) lines.push(`  ${check.keyId}: ${check.state} (${check.reason})`)
  }
  lines.push(`Uploads: ${r.uploads}; local store: ${r.total.toLocaleString("en-US")} keys, ${r.pending.toLocaleString("en-US")} waiting (${r.local.stateDir})`)
  lines.push(`Recovery: ${r.recovery.state}${r.recovery.reason === null ? "" : ` (${r.recovery.reason})`}`)
  return lines.join("\n")
}

/** The `status` command. */
export const statusCommand = Command.make("status", options, (o) =>
  runCommand(
    o.json,
    Effect.gen(function* () {
      const session = yield* openSession(o, Flags.optionalPath(o.state))
      return yield* Effect.provide(status(session), session.layer)
    }),
    { human, json: (r) => r },
  ),
).pipe(Command.withDescription("Show the server backup, its trust, local counts and the recovery state"))
