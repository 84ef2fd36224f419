/**
 * One device's working set for a command: the connection checked with whoami, the state directory, and the
 * Layers every flow needs (HomeserverApi over fetch, BackupStore over SQLite, CryptoBackend, Entropy).
 */
import { type BackupStore, CryptoBackend, Entropy, type HomeserverApi } from "@matrix-backup/core"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import { Effect, Layer, Option } from "effect"
import { type Connection, type ConnectionInput, connect } from "./Connection.js"
import { type DeviceState, defaultStateDir, openStateDir } from "./StateDir.js"

/** Services every flow may use. */
export type Services = HomeserverApi.HomeserverApi | BackupStore.BackupStore | CryptoBackend.CryptoBackend | Entropy.Entropy

/** An opened device. */
export interface Session {
  readonly connection: Connection
  readonly device: DeviceState
  readonly layer: Layer.Layer<Services, BackupStore.StorageError>
}

/** Crypto for the CLI: Web Crypto where Node has X25519 (Node 20 does), @noble otherwise. */
export const cryptoLayer: Layer.Layer<CryptoBackend.CryptoBackend | Entropy.Entropy> = CryptoBackend.layer.pipe(
  Layer.provideMerge(Entropy.layer),
)

/** The layers of a device whose store is `storeFile`. */
export const deviceLayer = (api: Layer.Layer<HomeserverApi.HomeserverApi>, storeFile: string): Layer.Layer<Services, BackupStore.StorageError> =>
  Layer.mergeAll(api, SqliteBackupStore.layer({ filename: storeFile }), cryptoLayer)

/** Connects and opens the state directory (given, or the default one for this user and device). */
export const openSession = (input: ConnectionInput, state: Option.Option<string>) =>
  Effect.gen(function* () {
    const connection = yield* connect(input)
    const dir = Option.getOrElse(state, () => defaultStateDir(connection.userId, connection.deviceId))
    const device = yield* openStateDir(dir, connection.userId, connection.deviceId)
    return { connection, device, layer: deviceLayer(connection.api, device.storeFile) } satisfies Session
  })
