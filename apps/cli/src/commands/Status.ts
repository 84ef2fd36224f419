/** `status`: the server's backup, the detailed trust verdict, local counts and the recovery (4S) state. */
import { Command } from "@effect/cli"
import { BackupStore, HomeserverApi, SecretStorage } from "@matrix-backup/core"
import { Effect, Either, Option } from "effect"
import { type TrustVerdict, verdict } from "../backup/Trust.js"
import { defaultSecretStorageKey } from "../backup/Unlock.js"
import { toCliError } from "../CliError.js"
import * as Flags from "../Flags.js"
import { runCommand } from "../Output.js"
import { openSession, type Session } from "../Session.js"

const options = { json: Flags.json, ...Flags.connection }

/** Whether the account can recover its backup key with a recovery key, and why not. */
const recoveryState = (hasBackup: boolean) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const key = yield* defaultSecretStorageKey
    if (Option.isNone(key)) return { state: "disabled", reason: "No default Secret Storage key on the account" }
    const secret = yield* Effect.mapError(api.getAccountData(SecretStorage.MEGOLM_BACKUP_SECRET), toCliError)
    const stored = Option.flatMap(secret, (content) => Option.flatten(Either.getRight(SecretStorage.decodeEncryptedSecret(content))))
    if (Option.isNone(stored) || stored.value.encrypted[key.value.keyId] === undefined) {
      return { state: "incomplete", reason: "The backup key is not stored under the default Secret Storage key" }
    }
    if (!hasBackup) return { state: "incomplete", reason: "Secret Storage is set up but the homeserver has no backup" }
    return { state: "enabled", reason: "The recovery key opens Secret Storage, which holds the backup key" }
  })

const status = (session: Session) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const store = yield* BackupStore.BackupStore
    const info = yield* api.getBackupVersion().pipe(
      Effect.map(Option.some),
      Effect.catchTag("BackupNotFound", () => Effect.succeed(Option.none())),
    )
    const local = yield* store.getBackupDecryptionKey()
    const trust: TrustVerdict | null = Option.isSome(info)
      ? yield* verdict(info.value, session.device, Option.map(local, (l) => l.key))
      : null
    const version = Option.flatMap(info, (i) => Option.fromNullable(i.version))
    const pending = Option.isSome(version) ? yield* store.countPending(version.value) : 0
    const total = yield* store.countTotal()
    const recovery = yield* recoveryState(Option.isSome(info))
    const backup = Option.match(info, {
      onNone: () => null,
      onSome: (i) => ({ version: i.version ?? null, algorithm: i.algorithm, count: i.count ?? 0, etag: i.etag ?? null }),
    })
    const localState = { stateDir: session.device.dir, decryptionKeyVersion: Option.match(local, { onNone: () => null, onSome: (l) => l.version }) }
    return { backup, trust, pending, total, local: localState, recovery, userId: session.device.userId, deviceId: session.device.deviceId }
  })

const human = (r: Effect.Effect.Success<ReturnType<typeof status>>) => {
  const lines = [`Account ${r.userId}, device ${r.deviceId}`]
  if (r.backup === null) lines.push("Backup: none on the homeserver")
  else lines.push(`Backup: version ${r.backup.version}, ${r.backup.algorithm}, ${r.backup.count.toLocaleString("en-US")} keys, etag ${r.backup.etag}`)
  if (r.trust !== null) {
    lines.push(`Trust: ${r.trust.trusted ? "trusted" : "NOT trusted"} (${r.trust.reason})`)
    for (const s of r.trust.signatures) lines.push(`  signature ${s.keyId} (${s.signer}): ${s.valid ? "valid" : "invalid or unverifiable"}`)
  }
  lines.push(`Local: ${r.total.toLocaleString("en-US")} keys, ${r.pending.toLocaleString("en-US")} waiting for upload (${r.local.stateDir})`)
  lines.push(`Recovery: ${r.recovery.state} (${r.recovery.reason})`)
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
