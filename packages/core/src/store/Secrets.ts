/**
 * Secrets in a store (backup decryption key, cached 4S keys), sealed with the optional at-rest key.
 * A sealed check value records that the store is encrypted, so a wrong or missing key is refused
 * before anything is read or written ("WrongEncryptionKey", nothing overwritten).
 */
import { Effect, Either, Option, type Redacted } from "effect"
import { constantTimeEqual } from "../crypto/Bytes.js"
import { open, seal } from "./AtRest.js"
import type { Encoded } from "./Encoded.js"
import { StorageError } from "./StorageError.js"

const CHECK_NAME = "atRest.check"
const CHECK_VALUE = new TextEncoder().encode("matrix-backup at-rest check v1")

/** Reads and writes sealed values by name. Plaintext handed out is the caller's to wipe. */
export interface Secrets {
  readonly read: (name: string) => Effect.Effect<Option.Option<Uint8Array>, StorageError>
  readonly write: (name: string, plaintext: Uint8Array) => Effect.Effect<void, StorageError>
  readonly remove: (name: string) => Effect.Effect<void, StorageError>
}

/** Secrets over `encoded`, sealed with `key` when given. */
export const makeSecrets = (encoded: Encoded, key: Redacted.Redacted<Uint8Array> | undefined): Secrets => {
  let verified = false
  const verify = (text: string): Effect.Effect<void, StorageError> =>
    Either.match(open(key, CHECK_NAME, text), {
      onLeft: (error) => Effect.fail(error),
      onRight: (plain) =>
        constantTimeEqual(plain, CHECK_VALUE)
          ? Effect.sync(() => void (verified = true))
          : Effect.fail(new StorageError({ reason: "WrongEncryptionKey", message: "The at-rest key check failed" })),
    })
  const check: Effect.Effect<void, StorageError> = Effect.suspend(() => {
    if (verified) return Effect.void
    return Effect.flatMap(encoded.getValue(CHECK_NAME), (text) => {
      if (text !== undefined) return verify(text)
      if (key === undefined) return Effect.void
      return Effect.flatMap(seal(key, CHECK_NAME, CHECK_VALUE), (sealed) =>
        Effect.zipRight(encoded.setValue(CHECK_NAME, sealed), Effect.sync(() => void (verified = true))),
      )
    })
  })
  return {
    read: (name) =>
      Effect.zipRight(
        check,
        Effect.flatMap(encoded.getValue(name), (text) =>
          text === undefined ? Effect.succeed(Option.none()) : Effect.map(open(key, name, text), Option.some),
        ),
      ),
    write: (name, plaintext) =>
      Effect.zipRight(
        check,
        Effect.flatMap(seal(key, name, plaintext), (text) => encoded.setValue(name, text)),
      ),
    remove: (name) => encoded.setValue(name, undefined),
  }
}
