// Test harness for secret storage: the testkit fake homeserver over real loopback HTTP (one per test), users and
// devices, and the fetch-based HomeserverApi.
import { Duration, Effect, Layer, Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { FakeHomeserverAdmin, FakeHomeserverOptions, TestUser } from "@matrix-backup/testkit"
import { FakeHomeserver, loginNewDevice, registerUser } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, CryptoBackend, DeviceKeys, Entropy, type HomeserverApi, Ids, KeyBackupEngine, Recovery, SecretStorageCallbacks as CallbacksLayer, SecretStorage } from "@matrix-backup/core"

export type { FakeHomeserverAdmin, TestUser }

/** A running fake for one test. */
export interface Server {
  readonly url: string
  readonly admin: FakeHomeserverAdmin
}

/** Runs `f` against a fresh fake homeserver on loopback HTTP (the synapse profile unless `options` say otherwise). */
export const withServer = <A, E, R>(f: (server: Server) => Effect.Effect<A, E, R>, options: FakeHomeserverOptions = {}): Effect.Effect<A, E, Exclude<R, FakeHomeserver>> =>
  Effect.flatMap(FakeHomeserver, f).pipe(Effect.provide(FakeHomeserver.layerServer(options)))

/** Registers a user (first device). */
export const newUser = (server: Server): Effect.Effect<TestUser> => Effect.promise(() => registerUser(server.url))

/** Logs the user in on another device. */
export const newDevice = (server: Server, user: TestUser): Effect.Effect<TestUser> => Effect.promise(() => loginNewDevice(server.url, user))

/** The real HomeserverApi.HomeserverApi (fetch over loopback) for one device, with fast retries. */
export const apiLayer = (server: Server, user: TestUser): Layer.Layer<HomeserverApi.HomeserverApi> =>
  FetchHomeserverApi.layerFetch({
    baseUrl: server.url,
    accessToken: Redacted.make(user.accessToken),
    userId: Ids.UserId.make(user.userId),
    retry: { maxAttempts: 2, baseDelay: Duration.millis(5), maxDelay: Duration.millis(10) },
  })

/** SecretStorage for one device with the given callbacks. */
export const secretStorageLayer = <E, R>(
  server: Server,
  user: TestUser,
  callbacks: Layer.Layer<CallbacksLayer.SecretStorageCallbacks, E, R>,
): Layer.Layer<SecretStorage.SecretStorage, E, R> =>
  SecretStorage.layer.pipe(Layer.provide(Layer.mergeAll(apiLayer(server, user), callbacks, Entropy.layer)))

/** The account-data PUTs the server answered, for asserting that a failure wrote nothing. */
export const accountDataWrites = (server: Server): Effect.Effect<ReadonlyArray<string>> =>
  Effect.promise(async () =>
    (await server.admin.requestLog()).filter((entry) => entry.method === "PUT" && entry.path.includes("/account_data/")).map((entry) => entry.path),
  )

/** The raw account data of `type`. */
export const accountData = (server: Server, user: TestUser, type: string): Effect.Effect<unknown> =>
  Effect.promise(() => server.admin.accountData(user.userId, type))

/** Sets raw account data through the admin API. */
export const setAccountData = (server: Server, user: TestUser, type: string, content: Record<string, unknown>): Effect.Effect<void> =>
  Effect.promise(() => server.admin.setAccountData(user.userId, type, content))

/** 32 random test bytes as a Redacted key. */
export const randomKey = (): Redacted.Redacted<Uint8Array> => Redacted.make(globalThis.crypto.getRandomValues(new Uint8Array(32)))

/** Options of one test device's stack. */
export interface DeviceOptions {
  /** PBKDF2 iterations for new passphrase keys (tests use few). */
  readonly passphraseIterations?: number
  readonly requireCrossSigningSecrets?: boolean
}

/** Everything one device runs: HomeserverApi.HomeserverApi, memory store, events, crypto, device keys, 4S, engine and Recovery. */
export const deviceLayer = <E, R>(
  server: Server,
  user: TestUser,
  callbacks: Layer.Layer<CallbacksLayer.SecretStorageCallbacks, E, R>,
  options: DeviceOptions = {},
) => {
  const base = Layer.mergeAll(
    apiLayer(server, user),
    BackupStore.layerMemory,
    BackupEvents.layer,
    CryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer)),
    DeviceKeys.layerFromSeeds({ userId: user.userId, deviceId: user.deviceId, deviceSeed: randomKey() }),
    callbacks,
  )
  return Recovery.layerWith({ passphraseIterations: options.passphraseIterations ?? 1000, ...(options.requireCrossSigningSecrets === undefined ? {} : { requireCrossSigningSecrets: options.requireCrossSigningSecrets }) }).pipe(
    Layer.provideMerge(KeyBackupEngine.layer({ maxStartJitter: 0 })),
    Layer.provideMerge(SecretStorage.layer),
    Layer.provideMerge(base),
  )
}

/** Bootstraps 4S (a passphrase key when `passphrase` is given) and a backup on a device of `user`; returns the recovery key. */
export const bootstrapWithRecoveryKey = (server: Server, user: TestUser, passphrase?: string) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(passphrase === undefined ? undefined : Redacted.make(passphrase))
    yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
    return Redacted.value(generated.encodedPrivateKey ?? Redacted.make(""))
  }).pipe(Effect.provide(deviceLayer(server, user, CallbacksLayer.layerNone)))

/** Secret Storage with a fresh recovery key and a new backup, as an app's first set-up does; returns the recovery key. */
export const bootstrap = Effect.gen(function* () {
  const recovery = yield* Recovery.Recovery
  const generated = yield* recovery.createRecoveryKeyFromPassphrase()
  yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
  return Redacted.value(generated.encodedPrivateKey ?? Redacted.make(""))
})
