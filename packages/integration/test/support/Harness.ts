// Test harness for the engine, trust and facade tests: the testkit fake homeserver over real loopback HTTP,
// http-fetch's HomeserverApi with fast retries, a cross-signed test user, and the engine's layers.
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { FakeHomeserverAdmin, FakeHomeserverOptions, TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, FakeHomeserver, generateRoomKeys } from "@matrix-backup/testkit"
import { BackupEvents, type BackupStore, Base64, CryptoBackend, DeviceKeys, Entropy, HomeserverApi, Ids, KeyBackupEngine, RoomKey, type UploadOptions } from "@matrix-backup/core"

export { FakeHomeserver }
export type { FakeHomeserverAdmin, TestIdentity }

/** Retries of the HTTP adapter, fast enough for tests. */
export const FAST_RETRY = { maxAttempts: 3, baseDelay: Duration.millis(5), maxDelay: Duration.millis(20), maxRateLimitWait: Duration.seconds(5) }

/** Upload settings for tests: no start jitter, millisecond backoffs. */
export const FAST_UPLOAD: UploadOptions.UploadOptions = {
  maxStartJitter: 0,
  backoffBase: Duration.millis(5),
  backoffMax: Duration.millis(40),
  rateLimitDefault: Duration.millis(10),
  steadyStateTimeout: Duration.seconds(60),
}

/** The fetch HomeserverApi.HomeserverApi for `user` at `url` (real loopback HTTP). */
export const homeserverLayer = (url: string, user: { readonly userId: string; readonly accessToken: string }) =>
  Layer.effect(
    HomeserverApi.HomeserverApi,
    Effect.map(HttpClient.HttpClient, (client) =>
      FetchHomeserverApi.make(
        { baseUrl: url, accessToken: Redacted.make(user.accessToken), userId: Ids.UserId.make(user.userId), retry: FAST_RETRY },
        client,
      ),
    ),
  ).pipe(Layer.provide(FetchHttpClient.layer))

/** DeviceKeys from a testkit identity; `withMaster` adds the master private key. */
export const deviceKeysLayer = (identity: TestIdentity, options: { readonly withMaster?: boolean; readonly verifiedDevices?: ReadonlyArray<string> } = {}) =>
  DeviceKeys.layerFromSeeds({
    userId: identity.userId,
    deviceId: identity.deviceId,
    deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)),
    ...(options.withMaster === true ? { masterSeed: Redacted.make(Uint8Array.from(identity.masterSeed)) } : {}),
    ...(options.verifiedDevices === undefined ? {} : { verifiedDevices: options.verifiedDevices }),
  })

/** Everything the engine needs except HomeserverApi.HomeserverApi, DeviceKeys and BackupStore. */
export const baseLayer = Layer.mergeAll(BackupEvents.layer, CryptoBackend.layerWebCrypto.pipe(Layer.provideMerge(Entropy.layer)))

/** The engine (without 4S) over the given ports. */
export const engineLayer = (
  ports: Layer.Layer<HomeserverApi.HomeserverApi | DeviceKeys.DeviceKeys | BackupStore.BackupStore>,
  upload: UploadOptions.UploadOptions = FAST_UPLOAD,
) =>
  KeyBackupEngine.layerWithoutSecretStorage(upload).pipe(Layer.provideMerge(Layer.merge(ports, baseLayer)))

/** A running fake (loopback) with a cross-signed user, for one test. */
export const withServer = <A, E, R>(
  f: (server: { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }) => Effect.Effect<A, E, R>,
  options: FakeHomeserverOptions = {},
) =>
  Effect.gen(function* () {
    const { url, admin } = yield* FakeHomeserver
    const identity = yield* Effect.promise(() => createUserWithCrossSigning(url))
    return yield* f({ url, admin, identity })
  }).pipe(Effect.provide(FakeHomeserver.layerServer(options)))

/** `count` realistic room keys (testkit generator) as the domain record. */
export const roomKeys = (count: number, options: { readonly rooms?: number; readonly imported?: boolean; readonly seed?: string } = {}): Array<RoomKey.RoomKey> =>
  generateRoomKeys(count, { rooms: options.rooms ?? Math.max(1, Math.ceil(count / 50)), ...(options.seed === undefined ? {} : { seed: options.seed }) }).map(
    (k) => RoomKey.fromExported(k, { imported: options.imported ?? false, source: options.imported === true ? "file" : "direct" }),
  )

/** Base64 (padded or not) to bytes, throwing in tests. */
export const unb64 = (text: string): Uint8Array => {
  const bytes = Base64.decodeBase64(text)
  if (bytes === undefined) throw new Error("test: bad base64")
  return bytes
}

/** Collects every published event into an array (forked in the test's scope). */
export const collectEvents = Effect.gen(function* () {
  const events = yield* BackupEvents.BackupEvents
  const seen: Array<BackupEvents.BackupEvent> = []
  const queue = yield* events.subscribe
  yield* Effect.forkScoped(Effect.forever(Effect.map(queue.take, (event) => void seen.push(event))))
  return seen
})

/** Retries `check` (an assertion) until it passes or `ms` elapse: for effects observed asynchronously. */
export const eventually = <A>(check: () => A, ms = 2000): Effect.Effect<A> =>
  Effect.suspend(() => Effect.try(check)).pipe(
    Effect.retry({ times: Math.ceil(ms / 10), schedule: Schedule.spaced("10 millis") }),
    Effect.orDie,
  )
