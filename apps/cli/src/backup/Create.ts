/**
 * `create`: a new Secret Storage key (random, or from a passphrase) and a new backup through core's Recovery
 * (`bootstrapSecretStorage` with `setupNewKeyBackup`: old versions deleted, the new one signed by this device, its key
 * stored in 4S as `m.megolm_backup.v1` and kept locally).
 */
import { KeyBackupEngine, Recovery } from "@matrix-backup/core"
import type { Redacted } from "effect";
import { Effect, Option } from "effect"
import { CliError } from "../CliError.js"

/** What `create` hands back: the recovery key (shown once) and the new version. */
export interface Created {
  readonly recoveryKey: Redacted.Redacted<string>
  readonly backupVersion: string
}

/** Sets up 4S and a new backup. */
export const createBackup = (passphrase: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(Option.getOrUndefined(passphrase))
    yield* recovery.bootstrapSecretStorage({
      createSecretStorageKey: () => Effect.succeed(generated),
      setupNewSecretStorage: true,
      setupNewKeyBackup: true,
    })
    const version = yield* engine.getActiveSessionBackupVersion()
    if (Option.isNone(version) || generated.encodedPrivateKey === undefined) {
      return yield* new CliError({ code: "CreateFailed", message: "The new backup was not enabled" })
    }
    return { recoveryKey: generated.encodedPrivateKey, backupVersion: version.value } satisfies Created
  })
