// SecretStorage over the fake homeserver on loopback HTTP: keys, the default key, secrets stored and read back on
// another device, padded/unpadded base64, `{}` as absent, and each bad input as a typed error that writes nothing.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { RecoveryKey, SecretStorageSchema, SecretStorageCallbacks as Callbacks, SecretStorage } from "@matrix-backup/core"
import { AesHmacSha2 } from "@matrix-backup/core/adapter"
import { accountData, accountDataWrites, newDevice, newUser, randomKey, secretStorageLayer, setAccountData, withServer } from "./support.js"

const secretText = "c2VjcmV0IGJhY2t1cCBrZXkgYnl0ZXMgZm9yIHRlc3Q"

/** Adds a default key with `key` on the user's first device and stores one secret under it. */
const bootstrap = (key: Redacted.Redacted<Uint8Array>) =>
  Effect.gen(function* () {
    const ss = yield* SecretStorage.SecretStorage
    const { keyId } = yield* ss.addKey({ key, name: "test key" })
    yield* ss.setDefaultKeyId(keyId)
    yield* ss.store(SecretStorageSchema.MEGOLM_BACKUP_SECRET, Redacted.make(secretText))
    return keyId
  })

describe("SecretStorage", () => {
  it.effect("stores a secret and reads it back on a second device with the recovery key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const keyId = yield* bootstrap(key).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))
        const stored = yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)
        expect(Object.keys((stored as { encrypted: object }).encrypted)).toEqual([keyId])

        const device2 = yield* newDevice(server, user)
        const recoveryKey = Redacted.make(RecoveryKey.encodeRecoveryKey(Redacted.value(key)))
        const read = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          expect(Option.getOrThrow(yield* ss.getDefaultKeyId())).toBe(keyId)
          expect(yield* ss.hasKey()).toBe(true)
          expect(Object.keys(Option.getOrThrow(yield* ss.isStored(SecretStorageSchema.MEGOLM_BACKUP_SECRET)))).toEqual([keyId])
          return yield* ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)
        }).pipe(Effect.provide(secretStorageLayer(server, device2, Callbacks.layerFromRecoveryKey(recoveryKey))))
        expect(Redacted.value(Option.getOrThrow(read))).toBe(secretText)
      }),
    ),
  )

  it.effect("reads padded base64 (legacy js-sdk) as well as unpadded", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const layer = secretStorageLayer(server, user, Callbacks.layerFromKey(key))
        const keyId = yield* bootstrap(key).pipe(Effect.provide(layer))
        const pad = (text: string) => text + "=".repeat((4 - (text.length % 4)) % 4)
        const description = (yield* accountData(server, user, SecretStorageSchema.keyEventType(keyId))) as Record<string, string>
        yield* setAccountData(server, user, SecretStorageSchema.keyEventType(keyId), { ...description, iv: pad(description["iv"] ?? ""), mac: pad(description["mac"] ?? "") })
        const entry = AesHmacSha2.encryptSecret(Redacted.value(key), "m.cross_signing.master", "padded secret", new Uint8Array(16).fill(7))
        yield* setAccountData(server, user, "m.cross_signing.master", {
          encrypted: { [keyId]: { iv: pad(entry.iv), ciphertext: pad(entry.ciphertext), mac: pad(entry.mac) } },
        })
        const read = yield* Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get("m.cross_signing.master")).pipe(Effect.provide(layer))
        expect(Redacted.value(Option.getOrThrow(read))).toBe("padded secret")
      }),
    ),
  )

  it.effect("treats {} and never-set account data as absent", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const layer = secretStorageLayer(server, user, Callbacks.layerFromKey(key))
        yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          expect(yield* ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).toEqual(Option.none())
          expect(yield* ss.getDefaultKeyId()).toEqual(Option.none())
          expect(yield* ss.hasKey()).toBe(false)
          yield* bootstrap(key)
          yield* setAccountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET, {})
          expect(yield* ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).toEqual(Option.none())
          expect(yield* ss.isStored(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).toEqual(Option.none())
          yield* ss.setDefaultKeyId(null)
          expect(yield* accountData(server, user, "m.secret_storage.default_key")).toEqual({})
          expect(yield* ss.getDefaultKeyId()).toEqual(Option.none())
          expect(yield* ss.hasKey()).toBe(false)
        }).pipe(Effect.provide(layer))
      }),
    ),
  )

  it.effect("stores under several keys, each readable alone", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const [k1, k2] = [randomKey(), randomKey()]
        const ids = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          const a = yield* ss.addKey({ key: k1 })
          const b = yield* ss.addKey({ key: k2, keyId: "second" })
          yield* ss.useKey(a.keyId, k1)
          yield* ss.useKey(b.keyId, k2)
          yield* ss.store("m.cross_signing.user_signing", Redacted.make("two keys"), [a.keyId, b.keyId])
          return [a.keyId, b.keyId] as const
        }).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerNone)))
        expect(ids[1]).toBe("second")
        expect(ids[0]).toMatch(/^[A-Za-z0-9]{32}$/)
        for (const key of [k1, k2]) {
          const read = yield* Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get("m.cross_signing.user_signing")).pipe(
            Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))),
          )
          expect(Redacted.value(Option.getOrThrow(read))).toBe("two keys")
        }
      }),
    ),
  )
})

describe("SecretStorage: bad input is a typed error and writes nothing", () => {
  it.effect("a wrong key: get and store fail with WrongKey", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const keyId = yield* bootstrap(key).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const before = yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)
        const wrong = secretStorageLayer(server, user, Callbacks.layerFromKey(randomKey()))
        const errors = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          const onGet = yield* Effect.flip(ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET))
          const onStore = yield* Effect.flip(ss.store(SecretStorageSchema.MEGOLM_BACKUP_SECRET, Redacted.make("overwrite")))
          return [onGet, onStore]
        }).pipe(Effect.provide(wrong))
        for (const error of errors) expect(error).toMatchObject({ _tag: "SecretStorageError", reason: "WrongKey", keyId })
        expect(yield* accountDataWrites(server)).toEqual([])
        expect(yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)).toEqual(before)
      }),
    ),
  )

  it.effect("a secret whose MAC does not verify fails with BadMac", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const layer = secretStorageLayer(server, user, Callbacks.layerFromKey(key))
        const keyId = yield* bootstrap(key).pipe(Effect.provide(layer))
        const stored = (yield* accountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET)) as { encrypted: Record<string, Record<string, string>> }
        const entry = stored.encrypted[keyId] ?? {}
        const ciphertext = Buffer.from(entry["ciphertext"] ?? "", "base64")
        ciphertext[0] = (ciphertext[0] ?? 0) ^ 1
        yield* setAccountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET, { encrypted: { [keyId]: { ...entry, ciphertext: ciphertext.toString("base64") } } })
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const error = yield* Effect.flip(Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).pipe(Effect.provide(layer)))
        expect(error).toMatchObject({ reason: "BadMac", keyId, secretName: SecretStorageSchema.MEGOLM_BACKUP_SECRET })
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("storing without a default key fails with NoDefaultKey", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const error = yield* Effect.flip(
          Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.store(SecretStorageSchema.MEGOLM_BACKUP_SECRET, Redacted.make("x"))).pipe(
            Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(randomKey()))),
          ),
        )
        expect(error).toMatchObject({ _tag: "SecretStorageError", reason: "NoDefaultKey" })
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("a key description of an unknown algorithm fails with UnknownAlgorithm", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* setAccountData(server, user, SecretStorageSchema.keyEventType("odd"), { algorithm: "org.example.rot13", name: "odd" })
        yield* setAccountData(server, user, "m.secret_storage.default_key", { key: "odd" })
        yield* setAccountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET, { encrypted: { odd: { iv: "AAAA", ciphertext: "AAAA", mac: "AAAA" } } })
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const key = randomKey()
        const errors = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          const [, info] = Option.getOrThrow(yield* ss.getKey())
          expect(info).toMatchObject({ _tag: "Unknown", algorithm: "org.example.rot13" })
          return [
            yield* Effect.flip(ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)),
            yield* Effect.flip(ss.store(SecretStorageSchema.MEGOLM_BACKUP_SECRET, Redacted.make("x"))),
            yield* Effect.flip(ss.checkKey(key, info)),
          ]
        }).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))
        for (const error of errors) expect(error).toMatchObject({ reason: "UnknownAlgorithm", detail: "org.example.rot13" })
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("malformed account data is Malformed, naming paths but never values", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* setAccountData(server, user, "m.secret_storage.default_key", { key: 987654321 })
        yield* setAccountData(server, user, SecretStorageSchema.keyEventType("k"), { algorithm: "m.secret_storage.v1.aes-hmac-sha2", iv: "c2VjcmV0dmFsdWU", mac: "AAAA" })
        yield* setAccountData(server, user, SecretStorageSchema.MEGOLM_BACKUP_SECRET, { encrypted: "c2VjcmV0dmFsdWU" })
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const errors = yield* Effect.gen(function* () {
          const ss = yield* SecretStorage.SecretStorage
          return [yield* Effect.flip(ss.getDefaultKeyId()), yield* Effect.flip(ss.getKey("k")), yield* Effect.flip(ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET))]
        }).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(randomKey()))))
        expect(errors[0]).toMatchObject({ reason: "Malformed", detail: "key: Type" })
        expect(errors[1]).toMatchObject({ reason: "Malformed", keyId: "k" })
        expect(errors[1]?.message).toContain("iv")
        expect(errors[2]).toMatchObject({ reason: "Malformed", secretName: SecretStorageSchema.MEGOLM_BACKUP_SECRET })
        for (const error of errors) expect(error.message).not.toMatch(/987654321|c2VjcmV0dmFsdWU/)
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("callbacks: no key, an unoffered key ID, a rejecting callback", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        yield* bootstrap(key).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const attempt = (callbacks: Callbacks.PromiseCallbacks) =>
          Effect.flip(
            Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).pipe(
              Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromPromises(callbacks))),
            ),
          )
        expect(yield* attempt({})).toMatchObject({ reason: "NoKeyGiven" })
        expect(yield* attempt({ getSecretStorageKey: async () => null })).toMatchObject({ reason: "NoKeyGiven" })
        expect(yield* attempt({ getSecretStorageKey: async () => ["nope", Redacted.value(key)] })).toMatchObject({ reason: "UnknownKeyReturned", keyId: "nope" })
        const thrown = yield* attempt({ getSecretStorageKey: () => Promise.reject(new Error(`leak ${Redacted.value(key).join(",")}`)) })
        expect(thrown).toMatchObject({ reason: "CallbackFailed" })
        expect(String(thrown)).not.toContain("leak")
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )
})

describe("SecretStorage with Promise callbacks", () => {
  it.effect("hands js-sdk-shaped JSON descriptions to the app and uses its key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const key = randomKey()
        const keyId = yield* bootstrap(key).pipe(Effect.provide(secretStorageLayer(server, user, Callbacks.layerFromKey(key))))
        const seen: Array<unknown> = []
        const layer = secretStorageLayer(
          server,
          user,
          Callbacks.layerFromPromises({
            getSecretStorageKey: async ({ keys }, name) => {
              seen.push({ keys, name })
              return [Object.keys(keys)[0] ?? "", Uint8Array.from(Redacted.value(key))]
            },
          }),
        )
        const read = yield* Effect.flatMap(SecretStorage.SecretStorage, (ss) => ss.get(SecretStorageSchema.MEGOLM_BACKUP_SECRET)).pipe(Effect.provide(layer))
        expect(Redacted.value(Option.getOrThrow(read))).toBe(secretText)
        const description = yield* accountData(server, user, SecretStorageSchema.keyEventType(keyId))
        expect(seen).toEqual([{ keys: { [keyId]: description }, name: SecretStorageSchema.MEGOLM_BACKUP_SECRET }])
        expect(description).toMatchObject({ algorithm: "m.secret_storage.v1.aes-hmac-sha2", name: "test key" })
      }),
    ),
  )
})
