// The SecretStorageCallbacks layers against real 4S on the fake homeserver: a recovery key validated when the layer is
// built, a passphrase derived once per key with the description's parameters, the BackupStore cache consulted first
// (and only with keys that pass their check), and js-sdk-shaped Promise callbacks told about new keys.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import { deriveRecoveryKeyFromPassphrase } from "matrix-js-sdk/lib/crypto-api/key-passphrase.js"
import { BackupStore, CryptoBackend, Entropy, Recovery, RecoveryKey, SecretStorageCallbacks as Callbacks, SecretStorage } from "@matrix-backup/core"
import { EncodedStore, MemoryEncoded } from "@matrix-backup/core/adapter"
import { deviceLayer, newUser, randomKey, type Server, secretStorageLayer, type TestUser, withServer } from "./support.js"

const SECRET = "m.cross_signing.master"

/** Adds a default key (with `passphrase` parameters when given), stores SECRET under it. */
const setUp = (server: Server, user: TestUser, key: Redacted.Redacted<Uint8Array>, passphrase?: { salt: string; iterations: number }) =>
  Effect.gen(function* () {
    const ss = yield* SecretStorage.SecretStorage
    const { keyId } = yield* ss.addKey({ key, ...(passphrase === undefined ? {} : { passphrase: { algorithm: "m.pbkdf2", ...passphrase } }) })
    yield* ss.setDefaultKeyId(keyId)
    yield* ss.store(SECRET, Redacted.make("master seed"))
    return keyId
  }).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))

const read = <E, R>(server: Server, user: TestUser, callbacks: Layer.Layer<Callbacks.SecretStorageCallbacks, E, R>) =>
  Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get(SECRET)).pipe(Effect.map(Option.map(Redacted.value)), Effect.provide(secretStorageLayer(server, user, callbacks)))

/** The real Web Crypto backend, counting PBKDF2 calls. */
const countingBackend = (counter: { n: number }) =>
  Layer.effect(
    CryptoBackend.CryptoBackend,
    Effect.map(CryptoBackend.CryptoBackend, (real) => ({
      ...real,
      pbkdf2Sha512: (...args: Parameters<typeof real.pbkdf2Sha512>) => Effect.zipRight(Effect.sync(() => counter.n++), real.pbkdf2Sha512(...args)),
    })),
  ).pipe(Layer.provide(CryptoBackend.layer), Layer.provide(Entropy.layer))

describe("SecretStorageCallbacks layers", () => {
  it.effect("layerFromRecoveryKey: opens 4S; an invalid recovery key fails the layer with RecoveryKeyError", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        yield* setUp(server, user, key)
        const text = RecoveryKey.encodeRecoveryKey(Redacted.value(key))
        expect(yield* read(server, user, Callbacks.layerFromRecoveryKey(Redacted.make(`  ${text}\n`)))).toEqual(Option.some("master seed"))
        const exit = yield* Effect.exit(read(server, user, Callbacks.layerFromRecoveryKey(Redacted.make(text.slice(0, -2)))))
        expect(exit).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "RecoveryKeyError" } } })
      }),
    ),
  )

  it.effect("layerFromPassphrase: derives with the description's salt and iterations, once per key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const params = { salt: "saltsaltsaltsaltsaltsaltsaltsalt", iterations: 2000 }
        const derived = yield* Effect.promise(() => deriveRecoveryKeyFromPassphrase("pass phrase", params.salt, params.iterations))
        yield* setUp(server, user, Redacted.make(Uint8Array.from(derived)), params)
        const counter = { n: 0 }
        const layer = Callbacks.layerFromPassphrase(Redacted.make("pass phrase")).pipe(Layer.provide(countingBackend(counter)))
        const values = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          return [yield* ss.get(SECRET), yield* ss.get(SECRET)].map(Option.map(Redacted.value))
        }).pipe(Effect.provide(secretStorageLayer(server, user, layer)))
        expect(values).toEqual([Option.some("master seed"), Option.some("master seed")])
        expect(counter.n).toBe(1)
        const wrong = yield* Effect.flip(read(server, user, Callbacks.layerFromPassphrase(Redacted.make("other")).pipe(Layer.provide(countingBackend(counter)))))
        expect(wrong).toMatchObject({ reason: "WrongKey" })
      }),
    ),
  )

  it.effect("layerCached: the BackupStore's key is used first; a stale cached key is skipped; app keys get cached", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const keyId = yield* setUp(server, user, key)
        const store = EncodedStore.makeEncoded(MemoryEncoded.makeMemoryEncoded())
        const storeLayer = Layer.succeed(BackupStore.BackupStore, store)
        let asked = 0
        const app = Callbacks.layerFromPromises({ getSecretStorageKey: async ({ keys }) => (asked++, [Object.keys(keys)[0] ?? "", Uint8Array.from(Redacted.value(key))]) })
        const cached = Callbacks.layerCached(app).pipe(Layer.provide(storeLayer))
        yield* store.cacheSecretStorageKey(keyId, randomKey())
        expect(yield* read(server, user, cached)).toEqual(Option.some("master seed"))
        expect(asked).toBe(1)
        expect(Option.map(yield* store.getCachedSecretStorageKey(keyId), Redacted.value)).toEqual(Option.some(Redacted.value(key)))
        expect(yield* read(server, user, cached)).toEqual(Option.some("master seed"))
        expect(asked).toBe(1)
        const never = Callbacks.layerCached(Callbacks.layerNone).pipe(Layer.provide(storeLayer))
        expect(yield* read(server, user, never)).toEqual(Option.some("master seed"))
      }),
    ),
  )

  it.effect("bootstrap tells the app's cacheSecretStorageKey about the new key, with its JSON description", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const told: Array<{ keyId: string; keyInfo: unknown; key: Uint8Array }> = []
        const app = Callbacks.layerFromPromises({ cacheSecretStorageKey: (keyId, keyInfo, key) => void told.push({ keyId, keyInfo, key }) })
        const generated = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated) })
          return generated
        }).pipe(Effect.provide(deviceLayer(server, user, app)))
        const keyId = ((yield* Effect.promise(() => server.admin.accountData(user.userId, "m.secret_storage.default_key"))) as { key: string }).key
        expect(told).toEqual([
          {
            keyId,
            keyInfo: yield* Effect.promise(() => server.admin.accountData(user.userId, `m.secret_storage.key.${keyId}`)),
            key: Redacted.value(generated.privateKey),
          },
        ])
      }),
    ),
  )

  it.effect("a throwing cacheSecretStorageKey does not undo a bootstrap", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const app = Callbacks.layerFromPromises({ cacheSecretStorageKey: () => Promise.reject(new Error("app storage full")) })
        const exit = yield* Effect.exit(
          Effect.flatMap(Recovery.Recovery, (r) =>
            Effect.flatMap(r.createRecoveryKeyFromPassphrase(), (generated) => r.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated) })),
          ).pipe(Effect.provide(deviceLayer(server, user, app))),
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(yield* Effect.promise(() => server.admin.accountData(user.userId, "m.secret_storage.default_key"))).toMatchObject({ key: expect.any(String) })
      }),
    ),
  )
})
