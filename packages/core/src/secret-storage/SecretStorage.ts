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

/** What the steps below share: the ports, the session's keys and the account-data reader. */
interface Deps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly callbacks: Context.Tag.Service<SecretStorageCallbacks>
  readonly entropy: Context.Tag.Service<Entropy>
  readonly sessionKeys: Ref.Ref<Map<string, Redacted.Redacted<Uint8Array>>>
  readonly reader: ReturnType<typeof makeReader>
}

/** A key for one of `keys`: a session key that passes its check, else the callbacks' answer. */
const obtainKey = (d: Deps, keys: Record<string, SecretStorageKeyDescription>, secretName: string, prompt = true) =>
  Effect.gen(function* () {
    const session = yield* Ref.get(d.sessionKeys)
    for (const [keyId, info] of Object.entries(keys)) {
      const key = session.get(keyId)
      if (key !== undefined && Either.getOrElse(checkKeyAgainst(Redacted.value(key), info), () => false)) {
        return [keyId, key] satisfies KeyChoice
      }
    }
    const answer = prompt ? yield* d.callbacks.getSecretStorageKey({ keys }, secretName) : Option.none()
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

const getKey = (d: Deps): Service["getKey"] => (keyId) =>
  Effect.gen(function* () {
    const id = keyId ?? Option.getOrUndefined(yield* d.reader.defaultKeyId)
    if (id === undefined) return Option.none()
    return Option.map(yield* d.reader.keyDescription(id), (info) => [id, info] as const)
  })

const get = (d: Deps): Service["get"] =>
  Effect.fn("SecretStorage.get")(function* (name: string, options: GetOptions = {}) {
    yield* Effect.annotateCurrentSpan({ name })
    const stored = yield* d.reader.encryptedSecret(name)
    if (Option.isNone(stored)) return Option.none()
    const keys = yield* d.reader.usableKeys(name, stored.value)
    const choice = yield* obtainKey(d, keys, name, options.prompt ?? true)
    yield* verifyChoice(keys, choice, name)
    return Option.some(yield* d.reader.decrypt(name, stored.value, choice))
  })

/** The key IDs to store under: the given ones (at least one), else the default key. */
const targetKeyIds = (d: Deps, name: string, keyIds: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    const ids = keyIds ?? [yield* Effect.flatMap(d.reader.defaultKeyId, Option.match({
      onNone: () => Effect.fail(secretStorageError("NoDefaultKey", { secretName: name })),
      onSome: Effect.succeed,
    }))]
    if (ids.length === 0) return yield* Effect.fail(secretStorageError("KeyNotFound", { secretName: name, detail: "no key IDs given" }))
    return ids
  })

/** The secret encrypted under `keyId`, once a key for it was obtained and checked. */
const encryptUnder = (d: Deps, name: string, secret: Redacted.Redacted<string>, keyId: string) =>
  Effect.gen(function* () {
    const info = yield* Effect.flatMap(d.reader.keyDescription(keyId), Option.match({
      onNone: () => Effect.fail(secretStorageError("KeyNotFound", { keyId, secretName: name })),
      onSome: Effect.succeed,
    }))
    if (info._tag === "Unknown") return yield* Effect.fail(secretStorageError("UnknownAlgorithm", { keyId, secretName: name, detail: info.algorithm }))
    const keys = { [keyId]: info }
    const choice = yield* obtainKey(d, keys, name)
    yield* verifyChoice(keys, choice, name)
    const iv = yield* d.entropy.randomBytes(16)
    return encryptSecret(Redacted.value(choice[1]), name, Redacted.value(secret), iv)
  })

const store = (d: Deps): Service["store"] =>
  Effect.fn("SecretStorage.store")(function* (name: string, secret: Redacted.Redacted<string>, keyIds?: ReadonlyArray<string>) {
    yield* Effect.annotateCurrentSpan({ name })
    const encrypted: Record<string, unknown> = {}
    for (const keyId of yield* targetKeyIds(d, name, keyIds)) encrypted[keyId] = yield* encryptUnder(d, name, secret, keyId)
    // Written only after every key was checked, so a wrong key leaves the stored secret as it was.
    yield* d.api.putAccountData(name, { encrypted })
  })

const addKey = (d: Deps): Service["addKey"] =>
  Effect.fn("SecretStorage.addKey")(function* (options: AddKeyOptions) {
    const keyId = options.keyId ?? generateKeyId(yield* d.entropy.randomBytes(RANDOM_BYTES_FOR_STRING))
    const key = Redacted.value(options.key)
    if (key.length !== SECRET_STORAGE_KEY_LENGTH) return yield* Effect.fail(secretStorageError("InvalidKey", { keyId }))
    const keyInfo = aesKeyDescription(
      makeKeyDescription({
        key,
        iv16: yield* d.entropy.randomBytes(16),
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
      }),
    )
    yield* d.api.putAccountData(keyEventType(keyId), keyDescriptionToJson(keyInfo))
    return { keyId, keyInfo }
  })

/** Builds the service from its ports. */
export const make = Effect.gen(function* () {
  const api = yield* HomeserverApi
  const d: Deps = {
    api,
    callbacks: yield* SecretStorageCallbacks,
    entropy: yield* Entropy,
    sessionKeys: yield* Ref.make(new Map<string, Redacted.Redacted<Uint8Array>>()),
    reader: makeReader(api),
  }
  const getKeyOf = getKey(d)
  return {
    addKey: addKey(d),
    getKey: getKeyOf,
    hasKey: (keyId) => Effect.map(getKeyOf(keyId), Option.isSome),
    checkKey: (key, info) => checkKeyAgainst(Redacted.value(key), info),
    getDefaultKeyId: () => d.reader.defaultKeyId,
    setDefaultKeyId: (keyId) => api.putAccountData(DEFAULT_KEY_EVENT_TYPE, keyId === null ? {} : { key: keyId }),
    get: get(d),
    store: store(d),
    isStored: d.reader.isStored,
    useKey: (keyId, key) => Ref.update(d.sessionKeys, (map) => new Map(map).set(keyId, key)),
    forgetKeys: () => Ref.set(d.sessionKeys, new Map()),
  } satisfies Service
})

/** The service over HomeserverApi, the app's callbacks and Entropy. */
export const layer: Layer.Layer<SecretStorage, never, HomeserverApi | SecretStorageCallbacks | Entropy> = Layer.effect(SecretStorage, make)
