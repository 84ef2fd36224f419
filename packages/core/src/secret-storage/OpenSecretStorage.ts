/**
 * Opening 4S with what a user types: a recovery key, a passphrase, or either in one field (tried as matrix-rust-sdk
 * does: the passphrase first when the key has `m.pbkdf2` parameters, then the recovery key). PROTOCOL.md §5.1, §5.4.
 */
import { Effect, Either, Option, Redacted } from "effect"
import { decodeRecoveryKey, type RecoveryKeyError } from "../crypto/RecoveryKey.js"
import type { SecretStorageKeyDescription } from "../schema/SecretStorage.js"
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

/**
 * Opens 4S: a recovery key is validated (prefix, parity, length, base58) before any request; the key must pass the
 * default key's check. It is then used for this session and offered to the app's `cacheSecretStorageKey`.
 */
export const openSecretStorage = (deps: Deps, input: SecretStorageKeyInput): Effect.Effect<{ readonly keyId: string }, OpenError> =>
  Effect.gen(function* () {
    if ("recoveryKey" in input) yield* Either.map(decodeRecoveryKey(Redacted.value(input.recoveryKey)), (bytes) => bytes.fill(0))
    const defaultKeyId = yield* deps.secretStorage.getDefaultKeyId()
    if (Option.isNone(defaultKeyId)) return yield* Effect.fail(secretStorageError("NoDefaultKey"))
    const keyId = defaultKeyId.value
    const found = yield* deps.secretStorage.getKey(keyId)
    if (Option.isNone(found)) return yield* Effect.fail(secretStorageError("KeyNotFound", { keyId }))
    const info = found.value[1]
    if (info._tag === "Unknown") return yield* Effect.fail(secretStorageError("UnknownAlgorithm", { keyId, detail: info.algorithm }))
    const key = yield* firstPassing(keyId, info, candidatesFor(deps, input, keyId, info))
    yield* deps.secretStorage.useKey(keyId, key)
    yield* deps.callbacks.cacheSecretStorageKey(keyId, info, key)
    return { keyId }
  }).pipe(Effect.withSpan("Recovery.openSecretStorage"))
