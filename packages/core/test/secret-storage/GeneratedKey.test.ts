// createRecoveryKeyFromPassphrase: js-sdk's GeneratedSecretStorageKey shape; passphrase keys equal matrix-js-sdk's own
// derivation with the same salt and iterations (500,000 by default).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { deriveRecoveryKeyFromPassphrase } from "matrix-js-sdk/lib/crypto-api/key-passphrase.js"
import { decodeRecoveryKey as jsDecodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { decodeRecoveryKey } from "../../src/crypto/RecoveryKey.js"
import { createRecoveryKeyFromPassphrase } from "../../src/secret-storage/GeneratedKey.js"
import { CryptoBackend, layer as cryptoLayer } from "../../src/services/CryptoBackend.js"
import { Entropy, layer as entropyLayer } from "../../src/services/Entropy.js"

const generate = (passphrase?: string, iterations?: number) =>
  Effect.gen(function* () {
    const entropy = yield* Entropy
    const backend = yield* CryptoBackend
    return yield* createRecoveryKeyFromPassphrase(entropy, backend, passphrase === undefined ? undefined : Redacted.make(passphrase), iterations === undefined ? {} : { iterations })
  }).pipe(Effect.provide(cryptoLayer), Effect.provide(entropyLayer))

describe("createRecoveryKeyFromPassphrase", () => {
  it.effect("without a passphrase: a random 32-byte key and its recovery key, no keyInfo", () =>
    Effect.gen(function* () {
      const a = yield* generate()
      const b = yield* generate()
      expect(a.keyInfo).toBeUndefined()
      expect(Redacted.value(a.privateKey)).toHaveLength(32)
      expect(Redacted.value(a.privateKey)).not.toEqual(Redacted.value(b.privateKey))
      const encoded = Redacted.value(a.encodedPrivateKey ?? Redacted.make(""))
      expect(Either.getOrThrow(decodeRecoveryKey(encoded))).toEqual(Redacted.value(a.privateKey))
      expect(jsDecodeRecoveryKey(encoded)).toEqual(Redacted.value(a.privateKey))
    }),
  )

  it.effect("with a passphrase: js-sdk's keyInfo shape and js-sdk's derivation", () =>
    Effect.gen(function* () {
      const generated = yield* generate("pässphrase", 1000)
      const passphrase = generated.keyInfo?.passphrase
      expect(Object.keys(generated.keyInfo ?? {})).toEqual(["passphrase"])
      expect(passphrase).toEqual({ algorithm: "m.pbkdf2", salt: expect.stringMatching(/^[A-Za-z0-9]{32}$/), iterations: 1000 })
      const theirs = yield* Effect.promise(() => deriveRecoveryKeyFromPassphrase("pässphrase", passphrase?.salt ?? "", 1000))
      expect(Redacted.value(generated.privateKey)).toEqual(theirs)
      expect(jsDecodeRecoveryKey(Redacted.value(generated.encodedPrivateKey ?? Redacted.make("")))).toEqual(theirs)
    }),
  )

  it.effect("uses 500,000 iterations by default", () =>
    Effect.gen(function* () {
      const generated = yield* generate("default strength")
      expect(generated.keyInfo?.passphrase?.iterations).toBe(500_000)
      const theirs = yield* Effect.promise(() => deriveRecoveryKeyFromPassphrase("default strength", generated.keyInfo?.passphrase?.salt ?? "", 500_000))
      expect(Redacted.value(generated.privateKey)).toEqual(theirs)
    }),
  )
})
