/**
 * The app's Secret Storage callbacks as a port, shaped like matrix-js-sdk's `cryptoCallbacks`: asked for a 4S key when a
 * secret is read or written, and told when a new key is created or opened. Layers for a fixed key, a recovery key, a
 * passphrase, Promise callbacks, and a cache in the BackupStore consulted first.
 */
import { Context, Effect, Either, Layer, Option, Redacted } from "effect"
import { decodeRecoveryKey, type RecoveryKeyError } from "../crypto/RecoveryKey.js"
import type { JsonObject } from "../schema/Json.js"
import type { SecretStorageKeyDescription } from "../schema/SecretStorage.js"
import { checkKeyAgainst, deriveKeyForDescription, keyDescriptionToJson, pbkdf2ParamsOf } from "../secret-storage/KeyDescriptions.js"
import { type SecretStorageError, secretStorageError } from "../secret-storage/SecretStorageError.js"
import { BackupStore } from "./BackupStore.js"
import { CryptoBackend } from "./CryptoBackend.js"

/** The keys a secret can be opened with, by key ID (js-sdk's `{ keys }` argument). */
export interface KeyRequest {
  readonly keys: Readonly<Record<string, SecretStorageKeyDescription>>
}

/** A key ID and the 32-byte key the app chose for it. */
export type KeyChoice = readonly [keyId: string, key: Redacted.Redacted<Uint8Array>]

/** The port. `getSecretStorageKey` answers None when the app has no key (e.g. the user cancelled). */
export class SecretStorageCallbacks extends Context.Tag("@matrix-backup/core/SecretStorageCallbacks")<
  SecretStorageCallbacks,
  {
    readonly getSecretStorageKey: (request: KeyRequest, secretName: string) => Effect.Effect<Option.Option<KeyChoice>, SecretStorageError>
    readonly cacheSecretStorageKey: (
      keyId: string,
      keyInfo: SecretStorageKeyDescription,
      key: Redacted.Redacted<Uint8Array>,
    ) => Effect.Effect<void>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<SecretStorageCallbacks>

/** No app callbacks: no key is ever given, nothing is cached. */
export const none: Service = {
  getSecretStorageKey: () => Effect.succeedNone,
  cacheSecretStorageKey: () => Effect.void,
}

/** No app callbacks (4S reads then need `Recovery.openSecretStorage`). */
export const layerNone: Layer.Layer<SecretStorageCallbacks> = Layer.succeed(SecretStorageCallbacks, none)

/** The offered key IDs in order, those the candidate passes first: a wrong key is still offered so the caller reports `WrongKey`. */
const chooseKeyId = (request: KeyRequest, check: (keyId: string, info: SecretStorageKeyDescription) => boolean): Option.Option<string> => {
  const ids = Object.keys(request.keys)
  return Option.orElse(
    Option.fromNullable(ids.find((id) => {
      const info = request.keys[id]
      return info !== undefined && check(id, info)
    })),
    () => Option.fromNullable(ids[0]),
  )
}

const passes = (key: Uint8Array) => (_: string, info: SecretStorageKeyDescription) =>
  Either.getOrElse(checkKeyAgainst(key, info), () => false)

/** Always answers with one fixed key, under the offered key ID it matches (or the first one offered). */
export const makeFromKey = (key: Redacted.Redacted<Uint8Array>): Service => ({
  getSecretStorageKey: (request) =>
    Effect.sync(() => Option.map(chooseKeyId(request, passes(Redacted.value(key))), (keyId): KeyChoice => [keyId, key])),
  cacheSecretStorageKey: () => Effect.void,
})

/** A fixed 32-byte 4S key. */
export const layerFromKey = (key: Redacted.Redacted<Uint8Array>): Layer.Layer<SecretStorageCallbacks> =>
  Layer.succeed(SecretStorageCallbacks, makeFromKey(key))

/** A recovery key typed by the user; an invalid one (prefix, parity, length, base58) fails the layer before any request. */
export const layerFromRecoveryKey = (recoveryKey: Redacted.Redacted<string>): Layer.Layer<SecretStorageCallbacks, RecoveryKeyError> =>
  Layer.effect(
    SecretStorageCallbacks,
    Effect.map(decodeRecoveryKey(Redacted.value(recoveryKey)), (bytes) => makeFromKey(Redacted.make(bytes))),
  )

/**
 * A passphrase: derives each offered key that has `m.pbkdf2` parameters (once per key ID and parameters, as
 * derivation is slow) and answers with the first that passes its key check, else the first derived one.
 */
export const makeFromPassphrase = (passphrase: Redacted.Redacted<string>, backend: Context.Tag.Service<CryptoBackend>): Service => {
  const derived = new Map<string, Redacted.Redacted<Uint8Array>>()
  const derive = (keyId: string, info: SecretStorageKeyDescription) => {
    const memo = `${keyId}\u0000${JSON.stringify(Option.getOrNull(pbkdf2ParamsOf(info)))}`
    const known = derived.get(memo)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.tap(deriveKeyForDescription(backend, passphrase, info, keyId), (key) => Effect.sync(() => derived.set(memo, key)))
  }
  return {
    getSecretStorageKey: (request) =>
      Effect.gen(function* () {
        const candidates = Object.entries(request.keys).filter(([, info]) => Option.isSome(pbkdf2ParamsOf(info)))
        if (candidates.length === 0) return yield* Effect.fail(secretStorageError("NoPassphrase"))
        let first: KeyChoice | undefined
        for (const [keyId, info] of candidates) {
          const key = yield* derive(keyId, info)
          first ??= [keyId, key]
          if (passes(Redacted.value(key))(keyId, info)) return Option.some<KeyChoice>([keyId, key])
        }
        return Option.fromNullable(first)
      }),
    cacheSecretStorageKey: () => Effect.void,
  }
}

/** A passphrase, derived with the key description's `m.pbkdf2` parameters through the CryptoBackend. */
export const layerFromPassphrase = (passphrase: Redacted.Redacted<string>): Layer.Layer<SecretStorageCallbacks, never, CryptoBackend> =>
  Layer.effect(SecretStorageCallbacks, Effect.map(CryptoBackend, (backend) => makeFromPassphrase(passphrase, backend)))

/** matrix-js-sdk's `CryptoCallbacks` subset (method syntax, so js-sdk-typed functions are accepted). */
export interface PromiseCallbacks {
  /** Asked for a key of `keys` (ID to description) to open secret `name`: answer `[keyId, key bytes]`, or null. */
  getSecretStorageKey?(opts: { keys: Record<string, JsonObject> }, name: string): Promise<[string, Uint8Array] | null>
  /** Told a key that opened Secret Storage (or was just created), to keep for later prompts. */
  cacheSecretStorageKey?(keyId: string, keyInfo: JsonObject, key: Uint8Array): void | Promise<void>
}

/** Wraps app callbacks: the keys are handed out as JSON descriptions; a throwing callback is `CallbackFailed`. */
export const makeFromPromises = (callbacks: PromiseCallbacks): Service => ({
  getSecretStorageKey: (request, secretName) => {
    const get = callbacks.getSecretStorageKey
    if (get === undefined) return Effect.succeedNone
    const keys: Record<string, JsonObject> = {}
    for (const [keyId, info] of Object.entries(request.keys)) keys[keyId] = keyDescriptionToJson(info)
    return Effect.tryPromise({
      try: () => get.call(callbacks, { keys }, secretName),
      catch: () => secretStorageError("CallbackFailed", { secretName }),
    }).pipe(
      Effect.flatMap((answer) => {
        if (answer === null || answer === undefined) return Effect.succeedNone
        // Untyped callers hand back all sorts (an Either, a recovery key string): say what is expected.
        if (!Array.isArray(answer) || typeof answer[0] !== "string" || !(answer[1] instanceof Uint8Array)) {
          const detail = "getSecretStorageKey must answer [keyId, Uint8Array] or null (decodeRecoveryKey turns a recovery key into bytes)"
          return Effect.fail(secretStorageError("InvalidKey", { secretName, detail }))
        }
        return Effect.succeed(Option.some<KeyChoice>([answer[0], Redacted.make(Uint8Array.from(answer[1]))]))
      }),
    )
  },
  cacheSecretStorageKey: (keyId, keyInfo, key) => {
    const cache = callbacks.cacheSecretStorageKey
    if (cache === undefined) return Effect.void
    // The app gets its own copy; a failing cache callback must not undo the operation that created the key.
    return Effect.tryPromise(async () => cache.call(callbacks, keyId, keyDescriptionToJson(keyInfo), Uint8Array.from(Redacted.value(key)))).pipe(
      Effect.catchAll(() => Effect.logWarning("Secret storage: cacheSecretStorageKey callback failed", { keyId })),
    )
  },
})

/** App callbacks given as Promise functions (matrix-js-sdk `cryptoCallbacks`). */
export const layerFromPromises = (callbacks: PromiseCallbacks): Layer.Layer<SecretStorageCallbacks> =>
  Layer.succeed(SecretStorageCallbacks, makeFromPromises(callbacks))

/**
 * Consults the 4S keys cached in the BackupStore first (only one that passes the key check is used), then the
 * inner callbacks; keys the inner callbacks give or cache that pass their check are cached in the store.
 */
export const makeCached = (inner: Service, store: Context.Tag.Service<BackupStore>): Service => {
  const cached = (keyId: string, info: SecretStorageKeyDescription) =>
    store.getCachedSecretStorageKey(keyId).pipe(
      Effect.catchAll((error) => Effect.as(Effect.logWarning("Secret storage: cached key unreadable", { keyId, reason: error.reason }), Option.none<Redacted.Redacted<Uint8Array>>())),
      Effect.map(Option.filter((key) => passes(Redacted.value(key))(keyId, info))),
    )
  const remember = (keyId: string, info: SecretStorageKeyDescription, key: Redacted.Redacted<Uint8Array>) =>
    passes(Redacted.value(key))(keyId, info)
      ? store.cacheSecretStorageKey(keyId, key).pipe(
          Effect.catchAll((error) => Effect.logWarning("Secret storage: could not cache key", { keyId, reason: error.reason })),
        )
      : Effect.void
  return {
    getSecretStorageKey: (request, secretName) =>
      Effect.gen(function* () {
        for (const [keyId, info] of Object.entries(request.keys)) {
          const hit = yield* cached(keyId, info)
          if (Option.isSome(hit)) return Option.some<KeyChoice>([keyId, hit.value])
        }
        const answer = yield* inner.getSecretStorageKey(request, secretName)
        if (Option.isSome(answer)) {
          const info = request.keys[answer.value[0]]
          if (info !== undefined) yield* remember(answer.value[0], info, answer.value[1])
        }
        return answer
      }),
    cacheSecretStorageKey: (keyId, keyInfo, key) => Effect.zipRight(remember(keyId, keyInfo, key), inner.cacheSecretStorageKey(keyId, keyInfo, key)),
  }
}

/** `inner` behind the BackupStore's cache of 4S keys. */
export const layerCached = <E, R>(inner: Layer.Layer<SecretStorageCallbacks, E, R>): Layer.Layer<SecretStorageCallbacks, E, R | BackupStore> =>
  Layer.effect(
    SecretStorageCallbacks,
    Effect.gen(function* () {
      const store = yield* BackupStore
      const innerService = yield* SecretStorageCallbacks
      return makeCached(innerService, store)
    }),
  ).pipe(Layer.provide(inner))
