/**
 * Secret Storage (4S) over global account data: key descriptions, the default key, and secrets encrypted with
 * `m.secret_storage.v1.aes-hmac-sha2` (PROTOCOL.md §6). Keys come from the app's callbacks, or from keys opened
 * for this session (`useKey`, which `Recovery.openSecretStorage` calls).
 */
import { Context, Effect, Either, Layer, Option, Redacted, Ref } from "effect"
import { encryptSecret } from "../crypto/AesHmacSha2.js"
import { generateKeyId, RANDOM_BYTES_FOR_STRING } from "../crypto/Passphrase.js"
import {
  DEFAULT_KEY_EVENT_TYPE,
  keyEventType,
  type Pbkdf2Passphrase,
  type SecretStorageKeyDescription,
} from "../schema/SecretStorage.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { type KeyChoice, SecretStorageCallbacks } from "../services/SecretStorageCallbacks.js"
import { aesKeyDescription, checkKeyAgainst, keyDescriptionToJson, makeKeyDescription, SECRET_STORAGE_KEY_LENGTH } from "./KeyDescriptions.js"
import { makeReader } from "./SecretReader.js"
import { type SecretStorageError, secretStorageError } from "./SecretStorageError.js"

export { SecretStorageError, type SecretStorageErrorReason } from "./SecretStorageError.js"

/** Failures of 4S operations: a typed 4S fault or the homeserver's. */
export type Failure = SecretStorageError | HomeserverApiError

/** Options of `addKey`. */
export interface AddKeyOptions {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly name?: string
  /** The `m.pbkdf2` parameters the key was derived with, so a passphrase can reopen it. */
  readonly passphrase?: Pbkdf2Passphrase
  /** A chosen key ID; a random 32-character one otherwise. */
  readonly keyId?: string
}

/** Options of `get`. */
export interface GetOptions {
  /** Ask the app's callbacks when no session key opens the secret (default true). */
  readonly prompt?: boolean
}

/** The service. */
export class SecretStorage extends Context.Tag("@matrix-backup/core/SecretStorage")<
  SecretStorage,
  {
    /** Writes a new key description (key check from a random IV). Does not make it the default. */
    readonly addKey: (options: AddKeyOptions) => Effect.Effect<{ readonly keyId: string; readonly keyInfo: SecretStorageKeyDescription }, Failure>
    /** A key description by ID, or the default key's when `keyId` is absent; None when absent or blanked. */
    readonly getKey: (keyId?: string) => Effect.Effect<Option.Option<readonly [string, SecretStorageKeyDescription]>, Failure>
    /** Whether that key (or the default key) has a description. */
    readonly hasKey: (keyId?: string) => Effect.Effect<boolean, Failure>
    /** Whether `key` passes the description's key check; an unknown algorithm fails with `UnknownAlgorithm`. */
    readonly checkKey: (key: Redacted.Redacted<Uint8Array>, info: SecretStorageKeyDescription) => Effect.Effect<boolean, SecretStorageError>
    readonly getDefaultKeyId: () => Effect.Effect<Option.Option<string>, Failure>
    /** Sets the default key; `null` blanks it with `{}` (4S off). */
    readonly setDefaultKeyId: (keyId: string | null) => Effect.Effect<void, Failure>
    /** Decrypts a secret; None when it is not stored. With `prompt: false` only keys given to `useKey` are tried. */
    readonly get: (name: string, options?: GetOptions) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, Failure>
    /** Encrypts a secret under `keyIds` (default: the default key) and writes it; every key is checked first. */
    readonly store: (name: string, secret: Redacted.Redacted<string>, keyIds?: ReadonlyArray<string>) => Effect.Effect<void, Failure>
    /** The usable keys a secret is stored under, or None. */
    readonly isStored: (name: string) => Effect.Effect<Option.Option<Record<string, SecretStorageKeyDescription>>, Failure>
    /** Uses `key` for `keyId` in this session, before asking the callbacks (the caller has checked it). */
    readonly useKey: (keyId: string, key: Redacted.Redacted<Uint8Array>) => Effect.Effect<void>
    /** Forgets the keys given to `useKey`. */
    readonly forgetKeys: () => Effect.Effect<void>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<SecretStorage>

/** Builds the service from its ports. */
export const make = Effect.gen(function* () {
  const api = yield* HomeserverApi
  const callbacks = yield* SecretStorageCallbacks
  const entropy = yield* Entropy
  const sessionKeys = yield* Ref.make(new Map<string, Redacted.Redacted<Uint8Array>>())
  const reader = makeReader(api)

  /** A key for one of `keys`: a session key that passes its check, else the callbacks' answer. */
  const obtainKey = (keys: Record<string, SecretStorageKeyDescription>, secretName: string, prompt = true) =>
    Effect.gen(function* () {
      const session = yield* Ref.get(sessionKeys)
      for (const [keyId, info] of Object.entries(keys)) {
        const key = session.get(keyId)
        if (key !== undefined && Either.getOrElse(checkKeyAgainst(Redacted.value(key), info), () => false)) {
          return [keyId, key] satisfies KeyChoice
        }
      }
      const answer = prompt ? yield* callbacks.getSecretStorageKey({ keys }, secretName) : Option.none()
      if (Option.isNone(answer)) return yield* Effect.fail(secretStorageError("NoKeyGiven", { secretName }))
      return answer.value
    })

  /** Checks a chosen key against the description it was chosen for. */
  const verifyChoice = (keys: Record<string, SecretStorageKeyDescription>, [keyId, key]: KeyChoice, secretName: string) => {
    const info = keys[keyId]
    if (info === undefined) return Effect.fail(secretStorageError("UnknownKeyReturned", { keyId, secretName }))
    if (Redacted.value(key).length !== SECRET_STORAGE_KEY_LENGTH) return Effect.fail(secretStorageError("InvalidKey", { keyId, secretName }))
    return Effect.flatMap(checkKeyAgainst(Redacted.value(key), info), (ok) =>
      ok ? Effect.void : Effect.fail(secretStorageError("WrongKey", { keyId, secretName })),
    )
  }

  const getKey: Service["getKey"] = (keyId) =>
    Effect.gen(function* () {
      const id = keyId ?? Option.getOrUndefined(yield* reader.defaultKeyId)
      if (id === undefined) return Option.none()
      return Option.map(yield* reader.keyDescription(id), (info) => [id, info] as const)
    })

  const get: Service["get"] = (name, options = {}) =>
    Effect.gen(function* () {
      const stored = yield* reader.encryptedSecret(name)
      if (Option.isNone(stored)) return Option.none()
      const keys = yield* reader.usableKeys(name, stored.value)
      const choice = yield* obtainKey(keys, name, options.prompt ?? true)
      yield* verifyChoice(keys, choice, name)
      return Option.some(yield* reader.decrypt(name, stored.value, choice))
    }).pipe(Effect.withSpan("SecretStorage.get", { attributes: { name } }))

  const store: Service["store"] = (name, secret, keyIds) =>
    Effect.gen(function* () {
      const ids = keyIds ?? [yield* Effect.flatMap(reader.defaultKeyId, Option.match({
        onNone: () => Effect.fail(secretStorageError("NoDefaultKey", { secretName: name })),
        onSome: Effect.succeed,
      }))]
      if (ids.length === 0) return yield* Effect.fail(secretStorageError("KeyNotFound", { secretName: name, detail: "no key IDs given" }))
      const encrypted: Record<string, unknown> = {}
      for (const keyId of ids) {
        const info = yield* Effect.flatMap(reader.keyDescription(keyId), Option.match({
          onNone: () => Effect.fail(secretStorageError("KeyNotFound", { keyId, secretName: name })),
          onSome: Effect.succeed,
        }))
        if (info._tag === "Unknown") return yield* Effect.fail(secretStorageError("UnknownAlgorithm", { keyId, secretName: name, detail: info.algorithm }))
        const keys = { [keyId]: info }
        const choice = yield* obtainKey(keys, name)
        yield* verifyChoice(keys, choice, name)
        const iv = yield* entropy.randomBytes(16)
        encrypted[keyId] = encryptSecret(Redacted.value(choice[1]), name, Redacted.value(secret), iv)
      }
      // Written only after every key was checked, so a wrong key leaves the stored secret as it was.
      yield* api.putAccountData(name, { encrypted })
    }).pipe(Effect.withSpan("SecretStorage.store", { attributes: { name } }))

  const addKey: Service["addKey"] = (options) =>
    Effect.gen(function* () {
      const keyId = options.keyId ?? generateKeyId(yield* entropy.randomBytes(RANDOM_BYTES_FOR_STRING))
      const key = Redacted.value(options.key)
      if (key.length !== SECRET_STORAGE_KEY_LENGTH) return yield* Effect.fail(secretStorageError("InvalidKey", { keyId }))
      const keyInfo = aesKeyDescription(
        makeKeyDescription({
          key,
          iv16: yield* entropy.randomBytes(16),
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
        }),
      )
      yield* api.putAccountData(keyEventType(keyId), keyDescriptionToJson(keyInfo))
      return { keyId, keyInfo }
    }).pipe(Effect.withSpan("SecretStorage.addKey"))

  return {
    addKey,
    getKey,
    hasKey: (keyId) => Effect.map(getKey(keyId), Option.isSome),
    checkKey: (key, info) => checkKeyAgainst(Redacted.value(key), info),
    getDefaultKeyId: () => reader.defaultKeyId,
    setDefaultKeyId: (keyId) => api.putAccountData(DEFAULT_KEY_EVENT_TYPE, keyId === null ? {} : { key: keyId }),
    get,
    store,
    isStored: reader.isStored,
    useKey: (keyId, key) => Ref.update(sessionKeys, (map) => new Map(map).set(keyId, key)),
    forgetKeys: () => Ref.set(sessionKeys, new Map()),
  } satisfies Service
})

/** The service over HomeserverApi, the app's callbacks and Entropy. */
export const layer: Layer.Layer<SecretStorage, never, HomeserverApi | SecretStorageCallbacks | Entropy> = Layer.effect(SecretStorage, make)
