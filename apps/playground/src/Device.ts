/**
 * One browser "device": the core services composed over the fetch HomeserverApi and an IndexedDB store, kept in a
 * ManagedRuntime for the page's lifetime. Each device has its own database and its own Ed25519 signing seed.
 */
import * as BrowserWorker from "@effect/platform-browser/BrowserWorker"
import type { BackupStore } from "@matrix-backup/core"
import {
  BackupEvents,
  CryptoBackend,
  DeviceKeys,
  Entropy,
  Ids,
  KeyBackupEngine,
  KeyBackupRestore,
  KeyStorage,
  Recovery,
  SecretStorageCallbacks,
  SecretStorage,
} from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { IndexedDbBackupStore } from "@matrix-backup/store-indexeddb"
import { Layer, ManagedRuntime, Redacted, Schema } from "effect"
import type { Login } from "./Accounts.js"

/** Every service a device offers the page. */
export type DeviceServices =
  | KeyStorage.KeyStorage
  | Recovery.Recovery
  | KeyBackupRestore.KeyBackupRestore
  | KeyBackupEngine.KeyBackupEngine
  | BackupStore.BackupStore
  | BackupEvents.BackupEvents

/** Web Crypto (or @noble where X25519 is missing) on the page's thread. */
const localCrypto = CryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer))

/**
 * The same, with backup decryption on `workers` Web Workers (core's DecryptWorker pool over the browser runner);
 * 0 keeps everything on the page's thread.
 */
export const cryptoLayer = (workers: number) =>
  workers < 1
    ? localCrypto
    : DecryptWorker.layerPool({ size: workers }).pipe(
        Layer.provide(localCrypto),
        Layer.provide(BrowserWorker.layer(() => new Worker(new URL("./DecryptWorkerMain.ts", import.meta.url), { type: "module", name: "matrix-backup-decrypt" }))),
        Layer.orDie,
        Layer.provideMerge(Entropy.layer),
      )

/** The layers of one device; `decryptWorkers` Web Workers decrypt a restore (0: none). */
export const deviceLayer = (homeserver: string, login: Login, databaseName: string, decryptWorkers = 0) => {
  const userId = Schema.decodeSync(Ids.UserId)(login.userId)
  const ports = Layer.mergeAll(
    FetchHomeserverApi.layerFetch({ baseUrl: homeserver, accessToken: Redacted.make(login.accessToken), userId }),
    IndexedDbBackupStore.layer({ name: databaseName }),
    cryptoLayer(decryptWorkers),
    DeviceKeys.layerFromSeeds({
      userId: login.userId,
      deviceId: login.deviceId,
      deviceSeed: Redacted.make(globalThis.crypto.getRandomValues(new Uint8Array(32))),
    }),
    BackupEvents.layer,
  )
  const callbacks = SecretStorageCallbacks.layerCached(SecretStorageCallbacks.layerNone)
  const secretStorage = SecretStorage.layer.pipe(Layer.provideMerge(callbacks))
  // No random start delay: it spreads many clients' first uploads, and here one user is watching a progress bar.
  const engine = KeyBackupEngine.layer({ maxStartJitter: 0, batchSize: 200 })
  return KeyStorage.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Recovery.layer, KeyBackupRestore.layer)),
    Layer.provideMerge(engine),
    Layer.provideMerge(secretStorage),
    Layer.provideMerge(ports),
  )
}

/** A running device. */
export const openDevice = (homeserver: string, login: Login, databaseName: string, decryptWorkers = 0) =>
  ManagedRuntime.make(deviceLayer(homeserver, login, databaseName, decryptWorkers))
