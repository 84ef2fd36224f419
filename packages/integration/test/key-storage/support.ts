// Harness for the key-storage drift scenarios: one of our devices (engine, 4S, Recovery, restore, KeyStorage) over
// the fake homeserver, whose HomeserverApi counts every session it uploads per version, so a test can prove each
// pending key went up exactly once; and helpers that compare the server's keys with what the devices held.
import { Effect, Layer, Option, Redacted, Ref } from "effect"
import { BackupEvents, BackupStore, CryptoBackend, DeviceKeys, Entropy, HomeserverApi, KeyBackupClient, KeyBackupEngine, KeyBackupRestore, KeyStorage, Recovery, RoomKey, SecretStorage, SecretStorageCallbacks } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { generateRoomKeys, loginNewDevice } from "@matrix-backup/testkit"
import { bootstrapJsSdkBackup, checkBackupFromTrustingDevice, jsSdkSecondDevice } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { FAST_UPLOAD } from "../support/Harness.js"
import { apiLayer, newDevice, newUser, randomKey, type Server, type TestUser } from "../secret-storage/support.js"

export { accountData, bootstrap, newDevice, newUser, setAccountData, withServer } from "../secret-storage/support.js"
export type { Server, TestUser }


/** Counts uploaded sessions per version at the port, under the real HTTP adapter. */
const counting = (uploads: Ref.Ref<Map<string, Array<string>>>) =>
  Layer.effect(
    HomeserverApi.HomeserverApi,
    Effect.map(HomeserverApi.HomeserverApi, (api): HomeserverApi.Service => ({
      ...api,
      putRoomKeys: (version, request) =>
        Effect.tap(api.putRoomKeys(version, request), () =>
          Ref.update(uploads, (map) => {
            const sent = Object.entries(request.rooms).flatMap(([roomId, room]) => Object.keys(room.sessions).map((sessionId) => `${roomId}|${sessionId}`))
            return new Map(map).set(version, [...(map.get(version) ?? []), ...sent])
          }),
        ),
    })),
  )

/** One of our devices with KeyStorage; `uploads` records what its engine sent; `masterSeed`: the app holds the master key. */
export const ourDevice = (server: Server, user: TestUser, uploads: Ref.Ref<Map<string, Array<string>>>, masterSeed?: Uint8Array) => {
  const base = Layer.mergeAll(
    counting(uploads).pipe(Layer.provide(apiLayer(server, user))),
    BackupStore.layerMemory,
    BackupEvents.layer,
    CryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer)),
    DeviceKeys.layerFromSeeds({
      userId: user.userId,
      deviceId: user.deviceId,
      deviceSeed: randomKey(),
      ...(masterSeed === undefined ? {} : { masterSeed: Redacted.make(masterSeed) }),
    }),
    SecretStorageCallbacks.layerNone,
  )
  return KeyStorage.layer.pipe(
    Layer.provideMerge(Layer.merge(Recovery.layerWith({ passphraseIterations: 1000 }), KeyBackupRestore.layer)),
    Layer.provideMerge(KeyBackupEngine.layer({ maxStartJitter: 0 })),
    Layer.provideMerge(SecretStorage.layer),
    Layer.provideMerge(base),
  )
}

/** `count` room keys with a seed, as the domain record. */
export const roomKeys = (count: number, seed: string): Array<RoomKey.RoomKey> =>
  generateRoomKeys(count, { rooms: 3, seed }).map((k) => RoomKey.fromExported(k, { imported: false, source: "direct" }))

/** `roomId|sessionId` of each key. */
export const ids = (keys: ReadonlyArray<{ readonly roomId: string; readonly sessionId: string }>): Array<string> =>
  keys.map((k) => `${k.roomId}|${k.sessionId}`).sort()

/** The sessions the server holds for `version`. */
export const serverSessions = (server: Server, user: TestUser, version: string) =>
  Effect.promise(async () => ids(await server.admin.roomKeys(user.userId, version)))

/** The cached backup key and the one in 4S (the 4S key must be open), as base64 text, for "they agree". */
export const cachedAndStored = Effect.gen(function* () {
  const recovery = yield* Recovery.Recovery
  const ssss = yield* SecretStorage.SecretStorage
  const cached = Option.map(yield* recovery.getSessionBackupPrivateKey(), (key) => Buffer.from(Redacted.value(key)).toString("base64").replace(/=+$/, ""))
  const stored = Option.map(yield* ssss.get("m.megolm_backup.v1", { prompt: false }), Redacted.value)
  return { cached: Option.getOrNull(cached), stored: Option.getOrNull(stored) }
})

/** Each session uploaded to `version`, and whether any went up twice. */
export const uploadedTo = (uploads: Ref.Ref<Map<string, Array<string>>>, version: string) =>
  Effect.map(Ref.get(uploads), (map) => {
    const sent = map.get(version) ?? []
    return { sessions: [...new Set(sent)].sort(), duplicates: sent.length - new Set(sent).size }
  })

/**
 * The account as Element sets it up: a js-sdk device bootstraps cross-signing, 4S with a recovery key, and a backup
 * signed by its master key. Returns the recovery key, the version, the master key seed read back from 4S (what an app
 * gives our device as `crossSigningMasterKey`) and the three cross-signing keys as js-sdk exports them.
 */
export const elementAccount = (server: Server, user: TestUser) =>
  Effect.promise(async () => {
    const element = await bootstrapJsSdkBackup(server.url, user)
    const read = async (name: string) => {
      const secret = await element.client.secretStorage.get(name)
      if (secret === undefined) throw new Error(`js-sdk stored no ${name} in 4S`)
      return secret
    }
    const master = await read("m.cross_signing.master")
    return {
      recoveryKey: element.recoveryKey.encodedPrivateKey ?? "",
      version: (await element.crypto.getActiveSessionBackupVersion()) ?? "",
      masterSeed: Uint8Array.from(Buffer.from(master, "base64")),
      crossSigningKeys: { masterKey: master, self_signing_key: await read("m.cross_signing.self_signing"), userSigningKey: await read("m.cross_signing.user_signing") },
    }
  })

/** A user with an Element account, and the upload log our devices on it share. */
export const elementScenario = (server: Server) =>
  Effect.gen(function* () {
    const user = yield* newUser(server)
    const uploads = yield* Ref.make(new Map<string, Array<string>>())
    return { server, user, uploads, ...(yield* elementAccount(server, user)) }
  })

/** What `ourDevice` provides. */
export type OurDevice = Layer.Layer.Success<ReturnType<typeof ourDevice>>

/**
 * Runs `body` on a new device of ours on the scenario's account: unless `loadKey` is false it first opens 4S with the
 * recovery key, takes the backup key from it and backs up `held`; `masterSeed`: the app gives the master key.
 */
export const onOurDevice = <A, E>(
  scenario: Effect.Effect.Success<ReturnType<typeof elementScenario>>,
  options: { readonly masterSeed?: Uint8Array; readonly held?: ReadonlyArray<RoomKey.RoomKey>; readonly loadKey?: boolean },
  body: Effect.Effect<A, E, OurDevice>,
): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const device = yield* newDevice(scenario.server, scenario.user)
    return yield* Effect.gen(function* () {
      if (options.loadKey !== false) {
        const recovery = yield* Recovery.Recovery
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* Effect.orDie(recovery.openSecretStorage({ recoveryKey: Redacted.make(scenario.recoveryKey) }))
        yield* Effect.orDie(recovery.loadSessionBackupPrivateKeyFromSecretStorage())
        yield* Effect.orDie(engine.addRoomKeys(options.held ?? []))
        yield* Effect.orDie(engine.waitForBackupSteadyState())
      }
      return yield* body
    }).pipe(Effect.provide(ourDevice(scenario.server, device, scenario.uploads, options.masterSeed)), Effect.scoped)
  })

/** What a new js-sdk device that trusts the user's identity (its private keys imported from 4S) sees of the backup. */
export const checkFromTrustingJsSdkDevice = (server: Server, user: TestUser, recoveryKey: string) =>
  Effect.promise(() => checkBackupFromTrustingDevice(server.url, user, () => decodeRecoveryKey(recoveryKey)))

/** A js-sdk device the user never verified resets the backup (its version carries only that device's signature). */
export const resetByUnverifiedJsSdkDevice = async (url: string, user: TestUser, recoveryKey: string): Promise<string> => {
  const unverified = await jsSdkSecondDevice(url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
  await unverified.crypto.resetKeyBackup()
  return (await unverified.crypto.getActiveSessionBackupVersion()) ?? ""
}

/** This library's Promise client on a new device of `user`, given the account's cross-signing master key. */
export const facadeDeviceWithMasterKey = async (url: string, user: TestUser, masterSeed: Uint8Array): Promise<KeyBackupClient.KeyBackupClient> => {
  const device = await loginNewDevice(url, user)
  return KeyBackupClient.createKeyBackupClient({
    homeserver: fetchHomeserver({ baseUrl: url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId }),
    store: BackupStore.layerMemory,
    deviceSigningKey: globalThis.crypto.getRandomValues(new Uint8Array(32)),
    crossSigningMasterKey: masterSeed,
    uploadOptions: FAST_UPLOAD,
    checkOnStart: false,
  })
}
