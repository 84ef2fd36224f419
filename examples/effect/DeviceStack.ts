// A custom stack for SDK authors: the ports from the adapters (homeserver over fetch, node:crypto, a store of your
// choice, this device's identity) and core's services over them, as one Layer an Effect program is given.
import { BackupEvents, type BackupStore, DeviceKeys, Entropy, Ids, KeyBackupEngine, KeyBackupRestore, Recovery, SecretStorage, SecretStorageCallbacks } from "@matrix-backup/core"
import { NodeCryptoBackend } from "@matrix-backup/crypto-node"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { Layer, type Redacted } from "effect"

/** A logged-in device: where its homeserver is, its token, and its Ed25519 signing seed. */
export interface DeviceLogin {
  readonly baseUrl: string
  readonly accessToken: Redacted.Redacted<string>
  readonly userId: string
  readonly deviceId: string
  readonly deviceSeed: Redacted.Redacted<Uint8Array>
}

/** What a program on the stack can use. */
export type DeviceServices =
  | KeyBackupEngine.KeyBackupEngine
  | SecretStorage.SecretStorage
  | Recovery.Recovery
  | KeyBackupRestore.KeyBackupRestore
  | BackupStore.BackupStore
  | BackupEvents.BackupEvents

/** Every service of the stack: the engine (uploads), Secret Storage, recovery and restore, over their ports. */
export const deviceStack = <E>(login: DeviceLogin, store: Layer.Layer<BackupStore.BackupStore, E>): Layer.Layer<DeviceServices, E> => {
  const ports = Layer.mergeAll(
    FetchHomeserverApi.layerFetch({ baseUrl: login.baseUrl, accessToken: login.accessToken, userId: Ids.UserId.make(login.userId) }),
    store,
    NodeCryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer)),
    BackupEvents.layer,
    DeviceKeys.layerFromSeeds({ userId: login.userId, deviceId: login.deviceId, deviceSeed: login.deviceSeed }),
  )
  // No prompt for the Secret Storage key: a program passes it explicitly where it opens Secret Storage.
  const secretStorage = SecretStorage.layer.pipe(Layer.provideMerge(SecretStorageCallbacks.layerNone))
  return Layer.mergeAll(Recovery.layer, KeyBackupRestore.layer).pipe(
    Layer.provideMerge(KeyBackupEngine.layer({ maxStartJitter: 0 })),
    Layer.provideMerge(secretStorage),
    Layer.provideMerge(ports),
  )
}
