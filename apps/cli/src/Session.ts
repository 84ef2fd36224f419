/**
 * One device's working set for a command: the connection checked with whoami, the state directory, and the
 * core services composed over its ports (HomeserverApi over fetch, BackupStore over SQLite, the device's signing
 * key from the state directory): engine, Secret Storage, Recovery, restore and key storage (diagnose, repair).
 */
import {
  BackupEvents,
  type BackupStore,
  type CryptoBackend,
  DeviceKeys,
  Entropy,
  type HomeserverApi,
  KeyBackupEngine,
  KeyBackupRestore,
  KeyStorage,
  Recovery,
  SecretStorageCallbacks,
  SecretStorage,
} from "@matrix-backup/core"
import { NodeCryptoBackend, NodeDecryptPool } from "@matrix-backup/crypto-node"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import { Effect, Layer } from "effect"
import * as AccountDataMemo from "./AccountDataMemo.js"
import type { CliError, CommandError } from "./CliError.js"
import { type Connection, type ConnectionInput, connect } from "./Connection.js"
import { optionalPath } from "./Flags.js"
import { type OutputMode, runCommand } from "./Output.js"
import { type DeviceState, defaultStateDir, openStateDir } from "./StateDir.js"

/** The ports a device is built on. */
export type Ports =
  | HomeserverApi.HomeserverApi
  | BackupStore.BackupStore
  | CryptoBackend.CryptoBackend
  | Entropy.Entropy
  | BackupEvents.BackupEvents
  | DeviceKeys.DeviceKeys

/** Every service a command may use. */
export type Services =
  | Ports
  | SecretStorage.SecretStorage
  | KeyBackupEngine.KeyBackupEngine
  | Recovery.Recovery
  | KeyBackupRestore.KeyBackupRestore
  | KeyStorage.KeyStorage

/** An opened device. */
export interface Session {
  readonly connection: Connection
  readonly device: DeviceState
  readonly layer: Layer.Layer<Services, BackupStore.StorageError>
}

/** Crypto for the CLI: node:crypto (OpenSSL), the fastest backend in Node. */
export const cryptoLayer: Layer.Layer<CryptoBackend.CryptoBackend | Entropy.Entropy> = NodeCryptoBackend.layer.pipe(
  Layer.provideMerge(Entropy.layer),
)

/** The same, with backup decryption spread over `threads` worker threads. */
export const cryptoLayerWithWorkers = (threads: number): Layer.Layer<CryptoBackend.CryptoBackend | Entropy.Entropy> =>
  threads < 1 ? cryptoLayer : NodeDecryptPool.layer({ size: threads }).pipe(Layer.provideMerge(Entropy.layer))

/** Upload tuning for a command line: no random start delay (that spreads many clients' start-up), bigger batches. */
const UPLOAD: KeyBackupEngine.UploadOptions = { maxStartJitter: 0, batchSize: 250 }

/** The core services of `device` over the given API and its SQLite store. */
export const deviceLayer = (
  api: Layer.Layer<HomeserverApi.HomeserverApi>,
  device: DeviceState,
  options: { readonly decryptThreads?: number } = {},
): Layer.Layer<Services, BackupStore.StorageError> => {
  const ports = Layer.mergeAll(
    AccountDataMemo.layer.pipe(Layer.provide(api)),
    SqliteBackupStore.layer({ filename: device.storeFile }),
    cryptoLayerWithWorkers(options.decryptThreads ?? 0),
    BackupEvents.layer,
    DeviceKeys.layerFromSeeds({ userId: device.userId, deviceId: device.deviceId, deviceSeed: device.seed }),
  )
  // The 4S key is only ever given explicitly (openSecretStorage); it is not cached in the state directory.
  const secretStorage = SecretStorage.layer.pipe(Layer.provideMerge(SecretStorageCallbacks.layerNone))
  return KeyStorage.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Recovery.layer, KeyBackupRestore.layer)),
    Layer.provideMerge(KeyBackupEngine.layer(UPLOAD)),
    Layer.provideMerge(secretStorage),
    Layer.provideMerge(ports),
  )
}

/** Connects and opens the state directory (given, or the default one for this user and device). */
export const openSession = (input: ConnectionInput, state: string | undefined, options: { readonly decryptThreads?: number } = {}) =>
  Effect.gen(function* () {
    const connection = yield* connect(input)
    const dir = state ?? defaultStateDir(connection.userId, connection.deviceId)
    const device = yield* openStateDir(dir, connection.userId, connection.deviceId)
    return { connection, device, layer: deviceLayer(connection.api, device, options) } satisfies Session
  })

/** What every device command reads from its options: the connection, `--state` and `--json`. */
export type DeviceOptions = ConnectionInput & { readonly state: string | undefined; readonly json: boolean }

/**
 * Runs a device command: `prepare` first (checks and questions that need no server; `noPreparation` when there are
 * none), then the session is opened
 * (token checked, state directory opened) and `body` runs on its services; the result is printed by `render`.
 */
export const runOnDevice = <O extends DeviceOptions, P, A, E extends CommandError>(
  o: O,
  command: {
    readonly prepare: (mode: OutputMode) => Effect.Effect<P, CliError>
    readonly body: (mode: OutputMode, prepared: P, session: Session) => Effect.Effect<A, E, Services>
    readonly render: { readonly human: (a: A) => string; readonly json: (a: A) => unknown }
    readonly decryptThreads?: number
  },
): Effect.Effect<void> => {
  const mode = { json: o.json }
  return runCommand(
    mode,
    Effect.gen(function* () {
      const prepared = yield* command.prepare(mode)
      const options = command.decryptThreads === undefined ? {} : { decryptThreads: command.decryptThreads }
      const session = yield* openSession(o, optionalPath(o.state), options)
      return yield* Effect.provide(command.body(mode, prepared, session), session.layer)
    }),
    command.render,
  )
}

/** For device commands with nothing to check before connecting. */
export const noPreparation = (): Effect.Effect<void> => Effect.void
