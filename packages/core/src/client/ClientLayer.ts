/**
 * Composes every service the Promise facade needs from the app's homeserver, store and device identity
 * plus its matrix-js-sdk style `cryptoCallbacks`: events, entropy, crypto backend, 4S, engine, recovery, restore.
 */
import { type Effect, Layer } from "effect"
import * as KeyBackupEngine from "../backup/KeyBackupEngine.js"
import type { UploadOptions } from "../backup/UploadOptions.js"
import * as KeyBackupRestore from "../restore/KeyBackupRestore.js"
import * as KeyStorage from "../key-storage/KeyStorage.js"
import * as Recovery from "../secret-storage/Recovery.js"
import * as SecretStorage from "../secret-storage/SecretStorage.js"
import * as BackupEvents from "../services/BackupEvents.js"
import type { BackupStore } from "../services/BackupStore.js"
import * as CryptoBackend from "../services/CryptoBackend.js"
import * as Entropy from "../services/Entropy.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import * as SecretStorageCallbacks from "../services/SecretStorageCallbacks.js"
import { type ClientStore, type HomeserverConnection, homeserverLayerOf, storeLayerOf } from "./ClientPorts.js"
import { deviceKeysLayerOf, type DeviceIdentityOptions } from "./DeviceIdentity.js"

/** Which `CryptoBackend`: Web Crypto when it has X25519 (`auto`, the default), always Web Crypto, or pure @noble. */
export type CryptoChoice = "auto" | "webcrypto" | "noble"

/** What `createKeyBackupClient` takes. */
export interface KeyBackupClientOptions extends DeviceIdentityOptions {
  /** The homeserver: `fetchHomeserver({ baseUrl, accessToken, userId, deviceId })`, or a HomeserverApi layer. */
  readonly homeserver: HomeserverConnection | Layer.Layer<HomeserverApi, unknown>
  /** Where keys are kept: `sqliteStore`, `indexedDbStore`, `memoryStore()`, or any BackupStore layer; a store that fails to open rejects `createKeyBackupClient`. */
  readonly store: ClientStore | Layer.Layer<BackupStore, unknown>
  /** matrix-js-sdk's `cryptoCallbacks` (4S key prompt and cache). */
  readonly cryptoCallbacks?: SecretStorageCallbacks.PromiseCallbacks
  /** Which crypto implementation (default `auto`: Web Crypto's X25519 when present, else pure JavaScript). */
  readonly crypto?: CryptoChoice
  /** Batch size, backoff and timeouts of the upload loop; durations are milliseconds or Effect Durations. */
  readonly uploadOptions?: UploadOptions
  /** Check the server's backup in the background at start, as matrix-js-sdk does (default true). */
  readonly checkOnStart?: boolean
  /** Options of the recovery service (e.g. PBKDF2 iterations for new passphrases). */
  readonly recoveryOptions?: Recovery.RecoveryOptions
}

/** Every service the facade runs on. */
export type ClientServices =
  | KeyBackupEngine.KeyBackupEngine
  | Recovery.Recovery
  | KeyBackupRestore.KeyBackupRestore
  | SecretStorage.SecretStorage
  | BackupEvents.BackupEvents
  | BackupStore
  | KeyStorage.KeyStorage

/** Runs an effect on the client's runtime; rejects with a `KeyBackupClientError`. */
export type Call = <A, E>(effect: Effect.Effect<A, E, ClientServices>) => Promise<A>

const cryptoLayer = (choice: CryptoChoice = "auto") =>
  choice === "noble" ? CryptoBackend.layerNoble : choice === "webcrypto" ? CryptoBackend.layerWebCrypto : CryptoBackend.layer

/** The composed layer (built once per client by its ManagedRuntime). */
export const clientLayer = (options: KeyBackupClientOptions): Layer.Layer<ClientServices, unknown> => {
  const ports = Layer.mergeAll(
    homeserverLayerOf(options.homeserver),
    storeLayerOf(options.store),
    deviceKeysLayerOf(options),
    BackupEvents.layer,
    cryptoLayer(options.crypto).pipe(Layer.provideMerge(Entropy.layer)),
  )
  const callbacks = SecretStorageCallbacks.layerCached(
    options.cryptoCallbacks === undefined ? SecretStorageCallbacks.layerNone : SecretStorageCallbacks.layerFromPromises(options.cryptoCallbacks),
  )
  const secretStorage = SecretStorage.layer.pipe(Layer.provideMerge(callbacks.pipe(Layer.provideMerge(ports))))
  const engine = KeyBackupEngine.layer(options.uploadOptions).pipe(Layer.provideMerge(secretStorage))
  const recovery = options.recoveryOptions === undefined ? Recovery.layer : Recovery.layerWith(options.recoveryOptions)
  return KeyStorage.layer.pipe(Layer.provideMerge(Layer.mergeAll(recovery, KeyBackupRestore.layer).pipe(Layer.provideMerge(engine))))
}
