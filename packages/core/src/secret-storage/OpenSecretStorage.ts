/**
 * Opening 4S with what a user types: a recovery key, a passphrase, or either in one field (tried as matrix-rust-sdk
 * does: the passphrase first when the key has `m.pbkdf2` parameters, then the recovery key). PROTOCOL.md §5.1, §5.4.
 */
import { Effect, Either, Option, Redacted } from "effect"
import { decodeRecoveryKey, type RecoveryKeyError } from "../crypto/RecoveryKey.js"
import { MEGOLM_BACKUP_SECRET, type SecretStorageKeyDescription } from "../schema/SecretStorage.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { checkKeyAgainst, deriveKeyForDescription, pbkdf2ParamsOf } from "./KeyDescriptions.js"
import type { Deps } from "./RecoveryDeps.js"
import { type SecretStorageError, secretStorageError } from "./SecretStorageError.js"

/** What can be given where a 4S key is asked for. */
export type SecretStorageKeyInput =
  | { readonly recoveryKey: Redacted.Redacted<string> }
  | { readonly passphrase: Redacted.Redacted<string> }
  | { readonly recoveryKeyOrPassphrase: Redacted.Redacted<string> }
  | { readonly key: Redacted.Redacted<Uint8Array> }

type OpenError = RecoveryKeyError | SecretStorageError | HomeserverApiError

const fromRecoveryKey = (text: Redacted.Redacted<string>) => Either.map(decodeRecoveryKey(Redacted.value(text)), (bytes) => Redacted.make(bytes))

/** The first candidate key for `info` that passes its check; WrongKey when none does. */
const firstPassing = (keyId: string, info: SecretStorageKeyDescription, candidates: ReadonlyArray<Effect.Effect<Redacted.Redacted<Uint8Array>, OpenError>>) =>
  Effect.gen(function* () {
    let firstError: OpenError | undefined
    for (const candidate of candidates) {
      const key = yield* Effect.either(candidate)
      if (Either.isLeft(key)) {
        firstError ??= key.left
        continue
      }
      if (yield* checkKeyAgainst(Redacted.value(key.right), info)) return key.right
    }
    return yield* Effect.fail(firstError ?? secretStorageError("WrongKey", { keyId }))
  })

/** The keys an input could stand for, in the order they are tried. */
const candidatesFor = (deps: Deps, input: SecretStorageKeyInput, keyId: string, info: SecretStorageKeyDescription) => {
  if ("key" in input) return [Effect.succeed(input.key)]
  if ("passphrase" in input) return [deriveKeyForDescription(deps.backend, input.passphrase, info, keyId)]
  if ("recoveryKey" in input) return [fromRecoveryKey(input.recoveryKey)]
  const text = input.recoveryKeyOrPassphrase
  const asRecoveryKey = fromRecoveryKey(text)
  if (Option.isNone(pbkdf2ParamsOf(info))) return [asRecoveryKey]
  const asPassphrase = deriveKeyForDescription(deps.backend, text, info, keyId)
  // Text that is not even a recovery key was meant as a passphrase: a wrong one is WrongKey, not a base58 error.
  return Either.isRight(asRecoveryKey) ? [asPassphrase, asRecoveryKey] : [asPassphrase]
}

/** The keys worth trying, default first, then the others the backup key is stored under (a stale default must not lock it away). */
const keysToTry = (deps: Deps) =>
  Effect.gen(function* () {
    const defaultKeyId = Option.getOrUndefined(yield* deps.secretStorage.getDefaultKeyId())
    const storedUnder = Option.getOrElse(yield* deps.secretStorage.isStored(MEGOLM_BACKUP_SECRET), () => ({}))
    const others = Object.entries(storedUnder).filter(([id]) => id !== defaultKeyId)
    const first = defaultKeyId === undefined ? [] : [[defaultKeyId, Option.map(yield* deps.secretStorage.getKey(defaultKeyId), ([, info]) => info)] as const]
    return { defaultKeyId, keys: [...first, ...others.map(([id, info]) => [id, Option.some(info)] as const)] }
  })

/**
 * Opens 4S: a recovery key is validated (prefix, parity, length, base58) before any request. The key must pass the
 * check of the default key, or of another key the backup key is stored under (4S "out of sync" after a new default
 * key); errors name the default key. The key is then used for this session and offered to `cacheSecretStorageKey`.
 */
export const openSecretStorage = (
  deps: Deps,
  input: SecretStorageKeyInput,
): Effect.Effect<{ readonly keyId: string; readonly isDefault: boolean }, OpenError> =>
  Effect.gen(function* () {
    if ("recoveryKey" in input) yield* Either.map(decodeRecoveryKey(Redacted.value(input.recoveryKey)), (bytes) => bytes.fill(0))
    const { defaultKeyId, keys } = yield* keysToTry(deps)
    let firstError: OpenError | undefined
    for (const [keyId, found] of keys) {
      const attempt = Option.isNone(found)
        ? Effect.fail(secretStorageError("KeyNotFound", { keyId }))
        : found.value._tag === "Unknown"
          ? Effect.fail(secretStorageError("UnknownAlgorithm", { keyId, detail: found.value.algorithm }))
          : firstPassing(keyId, found.value, candidatesFor(deps, input, keyId, found.value))
      const key = yield* Effect.either(attempt)
      if (Either.isLeft(key)) {
        firstError ??= key.left
        continue
      }
      yield* deps.secretStorage.useKey(keyId, key.right)
      if (Option.isSome(found)) yield* deps.callbacks.cacheSecretStorageKey(keyId, found.value, key.right)
      return { keyId, isDefault: keyId === defaultKeyId }
    }
    return yield* Effect.fail(firstError ?? secretStorageError("NoDefaultKey"))
  }).pipe(Effect.withSpan("Recovery.openSecretStorage"))
