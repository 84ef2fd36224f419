/**
 * `create [--recovery-key K | --passphrase P] [--force]`: a new key backup, in the account's existing Secret Storage
 * (opened with its recovery key) or in a new one. Replacing an existing Secret Storage or backup needs --force, or a
 * yes on a terminal.
 */
import { Effect, Option, Redacted } from "effect"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import { type Created, createInExistingSecretStorage, createWithNewSecretStorage, type Existing, inspectAccount } from "../backup/Create.js"
import type { Secret } from "../backup/Unlock.js"
import { CliError, cancelledError } from "../CliError.js"
import { requireConsent } from "../Consent.js"
import * as Flags from "../Flags.js"
import { count } from "../Format.js"
import { type OutputMode, say } from "../Output.js"
import { typedSecret } from "../Secrets.js"
import { noPreparation, runOnDevice } from "../Session.js"
import { askSecret, confirm } from "../terminal/Prompt.js"
import { isInteractive } from "../terminal/Terminal.js"

const options = {
  recoveryKey: Opt.secret("KEY", "Recovery key of the account's existing Secret Storage: keep it and put the new backup there", "MATRIX_RECOVERY_KEY"),
  passphrase: Opt.secret("PASSPHRASE", "Make the new Secret Storage key from this passphrase (the recovery key works as well)"),
  force: Flags.force("Replace an existing Secret Storage or backup"),
  ...Flags.connection,
  json: Flags.json,
}

type Input = { readonly recoveryKey: Redacted.Redacted<string> | undefined; readonly passphrase: Redacted.Redacted<string> | undefined; readonly force: boolean }

const usage = (message: string) => new CliError({ code: "Usage", message })

/** Keep the existing Secret Storage (with this secret), or replace it (undefined) once the user agreed. */
const keepOrReplace = (input: Input): Effect.Effect<Secret | undefined, CliError> => {
  if (input.recoveryKey !== undefined) return Effect.succeed({ _tag: "RecoveryKey", value: input.recoveryKey })
  if (input.force) return Effect.succeed(undefined)
  if (!isInteractive()) {
    return Effect.fail(
      new CliError({
        code: "NeedsForce",
        message:
          "This account already has Secret Storage, perhaps from another client: give its recovery key with --recovery-key to keep it " +
          "and add the backup there, or add --force to replace it (its recovery key then stops working everywhere)",
      }),
    )
  }
  return Effect.flatMap(
    askSecret("This account already has Secret Storage. Type its recovery key or passphrase to keep it, or press Enter to replace it (hidden): "),
    (typed) =>
      typed !== ""
        ? Effect.succeed(typedSecret(typed))
        : Effect.flatMap(
            confirm("Replace Secret Storage? Its recovery key stops working on every device, and what other clients keep there becomes unreadable."),
            (yes) => (yes ? Effect.succeed(undefined) : Effect.fail(cancelledError())),
          ),
  )
}

/** Asks before a backup with keys is deleted (create makes a new version and deletes the old ones). */
const replaceBackup = (existing: Existing, force: boolean) =>
  Option.match(existing.backup, {
    onNone: () => Effect.void,
    onSome: ({ version, keys }) =>
      requireConsent(force, {
        question: `Replace key backup version ${version} (${count(keys)} keys)? Its keys are deleted from the homeserver; this device uploads the keys it holds to the new one.`,
        refusal: `This account already has key backup version ${version} with ${count(keys)} keys, which create would delete; add --force to replace it`,
      }),
  })

const setUp = (mode: OutputMode, input: Input) =>
  Effect.gen(function* () {
    if (input.recoveryKey !== undefined && input.passphrase !== undefined) {
      return yield* usage("--passphrase makes a new Secret Storage key; to keep the existing one give only --recovery-key")
    }
    const existing = yield* inspectAccount
    const keep = existing.secretStorage ? yield* keepOrReplace(input) : undefined
    if (!existing.secretStorage && input.recoveryKey !== undefined) yield* say(mode, "This account has no Secret Storage yet: making a new one (the recovery key given is not used).")
    yield* replaceBackup(existing, input.force)
    const created: Created = keep === undefined ? yield* createWithNewSecretStorage(input.passphrase) : yield* createInExistingSecretStorage(keep)
    return {
      ...created,
      secretStorage: keep !== undefined ? ("kept" as const) : existing.secretStorage ? ("replaced" as const) : ("created" as const),
      replacedBackup: Option.getOrNull(Option.map(existing.backup, (b) => b.version)),
    }
  })

type Result = Effect.Effect.Success<ReturnType<typeof setUp>>

const human = (r: Result) => {
  if (r.recoveryKey === undefined) {
    return `Created key backup version ${r.backupVersion}; its key is in your existing Secret Storage, so your recovery key stays the same.`
  }
  return [
    r.secretStorage === "replaced"
      ? `Replaced Secret Storage and created key backup version ${r.backupVersion}; the old recovery key no longer works.`
      : `Created Secret Storage and key backup version ${r.backupVersion}.`,
    "",
    "Recovery key (shown once; keep it somewhere safe, it unlocks your message history):",
    "",
    `    ${Redacted.value(r.recoveryKey)}`,
    "",
  ].join("\n")
}

/** The `create` command. */
export const create = defineCommand({
  name: "create",
  summary: "Set up a new key backup (and Secret Storage when the account has none)",
  description:
    "Makes a new key backup version signed by this device and stores its key in Secret Storage. An account that " +
    "already has Secret Storage keeps it when you give its recovery key; replacing it, or an existing backup, needs " +
    "--force (or a yes on a terminal). A new recovery key is printed once.",
  options,
  examples: [
    { command: "matrix-backup create", says: "A new Secret Storage and backup; prints the recovery key" },
    { command: "matrix-backup create --recovery-key \"EsTc ...\"", says: "A new backup inside the Secret Storage you already have" },
    { command: "matrix-backup create --force --json", says: "Replace whatever exists, without asking; prints {\"recoveryKey\", \"backupVersion\", ...}" },
  ],
  run: (o) =>
    runOnDevice(o, {
      prepare: noPreparation,
      body: (mode) => setUp(mode, o),
      render: {
        human,
        json: (r) => ({
          recoveryKey: r.recoveryKey === undefined ? null : Redacted.value(r.recoveryKey),
          backupVersion: r.backupVersion,
          secretStorage: r.secretStorage,
          replacedBackup: r.replacedBackup,
        }),
      },
    }),
})
