/**
 * The secrets a command needs, from where the user put them: a flag, the environment, or (on a terminal, when
 * neither has it) a hidden prompt. Scripts without a terminal get a usage error that names the flag and variable.
 */
import { Effect, Option, Redacted } from "effect"
import type { Secret } from "./backup/Unlock.js"
import { CliError, cancelledError } from "./CliError.js"
import { askSecret } from "./terminal/Prompt.js"
import { isInteractive } from "./terminal/Terminal.js"

/** The two ways to give the backup's secret. */
export interface SecretInput {
  readonly recoveryKey: Redacted.Redacted<string> | undefined
  readonly passphrase: Redacted.Redacted<string> | undefined
}

const usage = (message: string) => new CliError({ code: "Usage", message })

/** The secret given on the command line or in the environment, if any; both at once is a usage error. */
export const givenSecret = (input: SecretInput): Effect.Effect<Secret | undefined, CliError> => {
  if (input.recoveryKey !== undefined && input.passphrase !== undefined) {
    return Effect.fail(usage("Give either --recovery-key or --passphrase, not both"))
  }
  if (input.recoveryKey !== undefined) return Effect.succeed({ _tag: "RecoveryKey", value: input.recoveryKey })
  if (input.passphrase !== undefined) return Effect.succeed({ _tag: "Passphrase", value: input.passphrase })
  return Effect.succeed(undefined)
}

/** What was typed at the prompt: a recovery key when it has the shape of one (Es + base58), else a passphrase. */
export const typedSecret = (typed: string): Secret =>
  /^Es[1-9A-HJ-NP-Za-km-z]{30,}$/.test(typed.replace(/\s+/g, ""))
    ? { _tag: "RecoveryKey", value: Redacted.make(typed) }
    : { _tag: "Passphrase", value: Redacted.make(typed) }

/** The key this device holds is of backup version `held`, and the server's current backup is another one. */
export interface HeldKeyOfOtherVersion {
  readonly held: string
  readonly current: string
}

const noSecret = (other: Option.Option<HeldKeyOfOtherVersion>) =>
  usage(
    Option.match(other, {
      onNone: () => "This device does not hold the backup key",
      onSome: ({ held, current }) =>
        `This device holds the key of backup version ${held}, but the server's current backup is version ${current} (another device replaced it)`,
    }) + ": give --recovery-key (or MATRIX_RECOVERY_KEY) or --passphrase",
  )

/**
 * The given secret, or one typed at a hidden prompt on a terminal; otherwise a usage error, which says when this
 * device holds the key of another version (`heldOther`, asked only then).
 */
export const secretOrAsk = <R = never>(
  input: SecretInput,
  heldOther: Effect.Effect<Option.Option<HeldKeyOfOtherVersion>, CliError, R> = Effect.succeedNone,
): Effect.Effect<Secret, CliError, R> =>
  Effect.flatMap(givenSecret(input), (given) => {
    if (given !== undefined) return Effect.succeed(given)
    if (!isInteractive()) return Effect.flatMap(heldOther, (other) => Effect.fail(noSecret(other)))
    return Effect.flatMap(askSecret("Recovery key or Secret Storage passphrase (hidden): "), (typed) =>
      typed === "" ? Effect.fail(cancelledError()) : Effect.succeed(typedSecret(typed)),
    )
  })

/** An Element key file's passphrase: given, or typed (twice for a new file) on a terminal; otherwise a usage error. */
export const exportPassphraseOrAsk = (
  given: Redacted.Redacted<string> | undefined,
  purpose: "new file" | "existing file",
): Effect.Effect<Redacted.Redacted<string>, CliError> => {
  if (given !== undefined) return Effect.succeed(given)
  if (!isInteractive()) {
    return Effect.fail(usage("An Element key file needs a passphrase: give --export-passphrase (or MATRIX_EXPORT_PASSPHRASE), or use --format json"))
  }
  return Effect.gen(function* () {
    const first = yield* askSecret("Passphrase of the key file (hidden): ")
    if (first === "") return yield* cancelledError()
    if (purpose === "new file" && (yield* askSecret("The same passphrase again: ")) !== first) {
      return yield* usage("The two passphrases differ; nothing was written")
    }
    return Redacted.make(first)
  })
}

/** The access token: given, or typed at a hidden prompt on a terminal; otherwise a usage error. */
export const accessTokenOrAsk = (given: Redacted.Redacted<string> | undefined, homeserver: string): Effect.Effect<Redacted.Redacted<string>, CliError> => {
  if (given !== undefined) return Effect.succeed(given)
  if (!isInteractive()) return Effect.fail(usage("No access token: pass --access-token or set MATRIX_ACCESS_TOKEN"))
  return Effect.flatMap(askSecret(`Access token for ${homeserver} (hidden): `), (typed) =>
    typed === "" ? Effect.fail(usage("No access token: pass --access-token or set MATRIX_ACCESS_TOKEN")) : Effect.succeed(Redacted.make(typed)),
  )
}
