/**
 * New 4S keys for `bootstrapSecretStorage`: random, or derived from a passphrase with PBKDF2-SHA-512 and a fresh
 * 32-character salt (PROTOCOL.md §5.4), in matrix-js-sdk's `GeneratedSecretStorageKey` shape.
 */
import { Effect, Redacted } from "effect"
import { DEFAULT_PBKDF2_BITS, DEFAULT_PBKDF2_ITERATIONS, generateSalt, RANDOM_BYTES_FOR_STRING } from "../crypto/Passphrase.js"
import { encodeRecoveryKey } from "../crypto/RecoveryKey.js"
import type { Pbkdf2Passphrase } from "../schema/SecretStorage.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { Entropy } from "../services/Entropy.js"
import type { Context } from "effect"

/** js-sdk's `GeneratedSecretStorageKey`, with the secret parts `Redacted`. */
export interface GeneratedSecretStorageKey {
  readonly keyInfo?: { readonly passphrase?: Pbkdf2Passphrase; readonly name?: string }
  readonly privateKey: Redacted.Redacted<Uint8Array>
  /** The recovery key (base58, groups of 4) to show the user once. */
  readonly encodedPrivateKey?: Redacted.Redacted<string>
}

/** Options of key creation; `iterations` is lowered only in tests. */
export interface KeyCreationOptions {
  readonly iterations?: number
}

/** A random 4S key, or one derived from `passphrase` with a random salt and `iterations` (default 500,000). */
export const createRecoveryKeyFromPassphrase = (
  entropy: Context.Tag.Service<Entropy>,
  backend: Context.Tag.Service<CryptoBackend>,
  passphrase?: Redacted.Redacted<string>,
  options: KeyCreationOptions = {},
): Effect.Effect<GeneratedSecretStorageKey> =>
  Effect.gen(function* () {
    if (passphrase === undefined) {
      const privateKey = yield* entropy.randomBytes(32)
      return { privateKey: Redacted.make(privateKey), encodedPrivateKey: Redacted.make(encodeRecoveryKey(privateKey)) }
    }
    const salt = generateSalt(yield* entropy.randomBytes(RANDOM_BYTES_FOR_STRING))
    const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS
    const privateKey = yield* backend.pbkdf2Sha512(passphrase, salt, iterations, DEFAULT_PBKDF2_BITS)
    return {
      keyInfo: { passphrase: { algorithm: "m.pbkdf2", salt, iterations } },
      privateKey,
      encodedPrivateKey: Redacted.make(encodeRecoveryKey(Redacted.value(privateKey))),
    }
  })
