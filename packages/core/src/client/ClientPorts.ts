/**
 * What the Promise facade's `homeserver` and `store` options take from an adapter's plain factory
 * (`fetchHomeserver`, `sqliteStore`, `indexedDbStore`, `memoryStore`): values a Promise user passes along
 * without touching Effect. Each wraps the Layer an SDK author would compose by hand.
 */
import { Layer, Predicate } from "effect"
import { type BackupStore, layerMemory } from "../services/BackupStore.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"

/** A logged-in device on a homeserver: who it is and how to reach the server (`fetchHomeserver(...)`). */
export interface HomeserverConnection {
  readonly _tag: "HomeserverConnection"
  /** The account, e.g. `@alice:example.org`. */
  readonly userId: string
  /** This device's ID (the `device_id` of the login). */
  readonly deviceId: string
  /** The `HomeserverApi` service; its construction errors reject `createKeyBackupClient`. */
  readonly layer: Layer.Layer<HomeserverApi, unknown>
}

/** Where the client keeps room keys, marks and the cached backup key (`sqliteStore(...)`, `memoryStore()`, ...). */
export interface ClientStore {
  readonly _tag: "ClientStore"
  /** The `BackupStore` service; its construction errors (e.g. a damaged file) reject `createKeyBackupClient`. */
  readonly layer: Layer.Layer<BackupStore, unknown>
}

/** Wraps an adapter's homeserver layer for the facade (adapter factories call this). */
export const homeserverConnection = (
  identity: { readonly userId: string; readonly deviceId: string },
  layer: Layer.Layer<HomeserverApi, unknown>,
): HomeserverConnection => ({ _tag: "HomeserverConnection", userId: identity.userId, deviceId: identity.deviceId, layer })

/** Wraps an adapter's store layer for the facade (adapter factories call this). */
export const clientStore = (layer: Layer.Layer<BackupStore, unknown>): ClientStore => ({ _tag: "ClientStore", layer })

/** A store in memory: everything is lost when the client stops (tests, short-lived tools). */
export const memoryStore = (): ClientStore => clientStore(Layer.fresh(layerMemory))

/** True for a factory's connection (false for a Layer). */
export const isHomeserverConnection = (u: unknown): u is HomeserverConnection =>
  Predicate.hasProperty(u, "_tag") && u._tag === "HomeserverConnection"

const isClientStore = (u: unknown): u is ClientStore => Predicate.hasProperty(u, "_tag") && u._tag === "ClientStore"

/** The layer behind a `homeserver` option (a connection, or a Layer from an SDK author). */
export const homeserverLayerOf = (option: HomeserverConnection | Layer.Layer<HomeserverApi, unknown>): Layer.Layer<HomeserverApi, unknown> =>
  isHomeserverConnection(option) ? option.layer : option

/** The layer behind a `store` option (a factory's store, or a Layer from an SDK author). */
export const storeLayerOf = (option: ClientStore | Layer.Layer<BackupStore, unknown>): Layer.Layer<BackupStore, unknown> =>
  isClientStore(option) ? option.layer : option
