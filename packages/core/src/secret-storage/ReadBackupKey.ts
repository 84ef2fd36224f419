/**
 * The server's current backup key from what a user types, without keeping it (an export, a one-off restore elsewhere):
 * the recovery key or passphrase opens 4S and `m.megolm_backup.v1` is read and checked against the backup; when 4S
 * does not open with it or holds no backup key, the input is tried as the backup key itself: a recovery key of an
 * older client, or a legacy backup passphrase (PROTOCOL.md §5, §5.3, §6.5).
 */
import { Effect, Either, Option, Redacted } from "effect"
import { decodeBackupKeySecret, isBackupKeyFor } from "../crypto/BackupKey.js"
import { decodeRecoveryKey, type RecoveryKeyError } from "../crypto/RecoveryKey.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { openSecretStorage } from "./OpenSecretStorage.js"
import { type Deps, serverBackup } from "./RecoveryDeps.js"
import { DecryptionKeyDoesNotMatch, RecoveryError } from "./RecoveryError.js"
import type { Failure } from "./SecretStorage.js"

/** What the user typed: a recovery key or a passphrase. */
export type TypedSecret = { readonly recoveryKey: Redacted.Redacted<string> } | { readonly passphrase: Redacted.Redacted<string> }

/** The key and the backup version it opens. */
export interface BackupKeyRead {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly backup: KeyBackupInfo & { readonly version: string }
  /** Where it came from: Secret Storage, or the input read as the backup key itself. */
  readonly via: "SecretStorage" | "RecoveryKeyAsBackupKey" | "LegacyPassphrase"
}

type CurveBackup = KeyBackupInfo & { readonly version: string; readonly auth_data: { readonly _tag: "Curve25519" } }

const isCurve = (backup: KeyBackupInfo & { readonly version: string }): backup is CurveBackup => backup.auth_data._tag === "Curve25519"

/** The backup key stored in 4S, when the input opens 4S and the secret is there; never prompts. */
const fromSecretStorage = (deps: Deps, input: TypedSecret) =>
  Effect.gen(function* () {
    const opened = yield* Effect.either(openSecretStorage(deps, input))
    if (Either.isLeft(opened)) return opened.left._tag === "RecoveryKeyError" ? yield* Effect.fail(opened.left) : Option.none<Uint8Array>()
    // A secret that is absent, blanked or unreadable here means "try the input directly"; a homeserver failure does not.
    const stored = yield* Effect.catchTag(deps.secretStorage.get(MEGOLM_BACKUP_SECRET, { prompt: false }), "SecretStorageError", () =>
      Effect.succeed(Option.none()),
    )
    return Option.flatMap(stored, (text) => Either.getRight(decodeBackupKeySecret(Redacted.value(text))))
  })

/** The input read directly as the backup key: a decoded recovery key, or the legacy passphrase derivation. */
const asBackupKey = (deps: Deps, input: TypedSecret, backup: CurveBackup) =>
  Effect.gen(function* () {
    if ("recoveryKey" in input) return Either.getRight(decodeRecoveryKey(Redacted.value(input.recoveryKey)))
    const { private_key_salt: salt, private_key_iterations: iterations, private_key_bits: bits } = backup.auth_data
    if (salt === undefined || iterations === undefined) return Option.none<Uint8Array>()
    return Option.some(Redacted.value(yield* deps.backend.pbkdf2Sha512(input.passphrase, salt, iterations, bits ?? 256)))
  })

/** Reads the current backup's key with `input`; stores nothing locally. */
export const readSessionBackupPrivateKey = (
  deps: Deps,
  input: TypedSecret,
): Effect.Effect<BackupKeyRead, Failure | RecoveryError | DecryptionKeyDoesNotMatch | RecoveryKeyError> =>
  Effect.gen(function* () {
    // A malformed recovery key fails before any request.
    if ("recoveryKey" in input) yield* Effect.map(decodeRecoveryKey(Redacted.value(input.recoveryKey)), (bytes) => bytes.fill(0))
    const found = yield* serverBackup(deps)
    if (Option.isNone(found)) return yield* Effect.fail(new RecoveryError({ reason: "NoBackup" }))
    const backup = found.value
    if (!isCurve(backup)) return yield* Effect.fail(new RecoveryError({ reason: "UnsupportedBackupAlgorithm", detail: backup.algorithm }))
    const opens = (key: Uint8Array) => isBackupKeyFor(key, backup.auth_data.public_key)
    const stored = yield* fromSecretStorage(deps, input)
    if (Option.isSome(stored)) {
      if (!opens(stored.value)) return yield* Effect.fail(new DecryptionKeyDoesNotMatch({ version: backup.version }))
      return { key: Redacted.make(stored.value), backup, via: "SecretStorage" } satisfies BackupKeyRead
    }
    const direct = yield* asBackupKey(deps, input, backup)
    if (Option.isSome(direct) && opens(direct.value)) {
      return { key: Redacted.make(direct.value), backup, via: "recoveryKey" in input ? "RecoveryKeyAsBackupKey" : "LegacyPassphrase" } satisfies BackupKeyRead
    }
    return yield* Effect.fail(new RecoveryError({ reason: "SecretDoesNotOpenBackup" }))
  }).pipe(Effect.withSpan("Recovery.readSessionBackupPrivateKey"))
