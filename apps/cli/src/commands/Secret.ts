/** Picks the one secret the user gave (`--recovery-key` or `--passphrase`) to open the backup. */
import { Effect, Option, type Redacted } from "effect"
import type { Secret } from "../backup/Unlock.js"
import { CliError } from "../CliError.js"

/** Exactly one of the two, or a usage error. */
export const chooseSecret = (input: {
  readonly recoveryKey: Option.Option<Redacted.Redacted<string>>
  readonly passphrase: Option.Option<Redacted.Redacted<string>>
}): Effect.Effect<Secret, CliError> => {
  if (Option.isSome(input.recoveryKey) && Option.isSome(input.passphrase)) {
    return Effect.fail(new CliError({ code: "Usage", message: "Give either --recovery-key or --passphrase, not both" }))
  }
  if (Option.isSome(input.recoveryKey)) return Effect.succeed({ _tag: "RecoveryKey", value: input.recoveryKey.value })
  if (Option.isSome(input.passphrase)) return Effect.succeed({ _tag: "Passphrase", value: input.passphrase.value })
  return Effect.fail(new CliError({ code: "Usage", message: "Give --recovery-key (or --passphrase) to open the backup" }))
}

/** `{reason: n}` as `reason n, reason n` for people. */
export const formatFailures = (failures: Record<string, number>): string => {
  const entries = Object.entries(failures)
  return entries.length === 0 ? "none" : entries.map(([reason, n]) => `${reason} ${n.toLocaleString("en-US")}`).join(", ")
}
