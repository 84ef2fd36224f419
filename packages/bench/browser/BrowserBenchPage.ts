// Browser restore benchmark, the page (bundled by browser/run.mjs): restores the fake homeserver's backup on a new
// device, either through our KeyBackupRestore into IndexedDB (Web Crypto on the page's thread, or on Web Workers) or
// through matrix-js-sdk 43's own restoreKeyBackup with its Rust crypto in IndexedDB. The runner calls
// `globalThis.restoreBench.ours(...)` / `.jsSdk(...)` and reads the figures they return.
import * as BrowserWorker from "@effect/platform-browser/BrowserWorker"
import {
  BackupEvents,
  CryptoBackend,
  DeviceKeys,
  Entropy,
  Ids,
  KeyBackupEngine,
  KeyBackupRestore,
  Recovery,
  SecretStorage,
  SecretStorageCallbacks,
} from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { IndexedDbBackupStore } from "@matrix-backup/store-indexeddb"
import { Effect, Layer, Redacted, Schema } from "effect"
import * as sdk from "matrix-js-sdk"

/** A new device of the seeded user, and the backup's key. */
export interface Run {
  readonly url: string
  readonly userId: string
  readonly deviceId: string
  readonly accessToken: string
  readonly privateKey: string
  readonly version: string
  /** Our side only: Web Workers decrypting (0: Web Crypto on the page's thread). */
  readonly workers?: number
}

/** What one restore took. */
export interface Figures {
  readonly keys: number
  readonly total: number
  readonly ms: number
}

const keyBytes = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))

const localCrypto = CryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer))

const cryptoLayer = (workers: number) =>
  workers < 1
    ? localCrypto
    : DecryptWorker.layerPool({ size: workers }).pipe(
        Layer.provide(localCrypto),
        Layer.provide(BrowserWorker.layer(() => new Worker(new URL("./DecryptWorkerBrowser.js", import.meta.url), { type: "module" }))),
        Layer.orDie,
        Layer.provideMerge(Entropy.layer),
      )

const deviceLayer = (run: Run) => {
  const userId = Schema.decodeSync(Ids.UserId)(run.userId)
  const ports = Layer.mergeAll(
    FetchHomeserverApi.layerFetch({ baseUrl: run.url, accessToken: Redacted.make(run.accessToken), userId }),
    IndexedDbBackupStore.layer({ name: `restore-bench-${run.deviceId}` }),
    cryptoLayer(run.workers ?? 0),
    DeviceKeys.layerFromSeeds({ userId: run.userId, deviceId: run.deviceId, deviceSeed: Redacted.make(crypto.getRandomValues(new Uint8Array(32))) }),
    BackupEvents.layer,
  )
  const secretStorage = SecretStorage.layer.pipe(Layer.provideMerge(SecretStorageCallbacks.layerNone))
  return Layer.mergeAll(Recovery.layer, KeyBackupRestore.layer).pipe(
    Layer.provideMerge(KeyBackupEngine.layer({ maxStartJitter: 0 })),
    Layer.provideMerge(secretStorage),
    Layer.provideMerge(ports),
  )
}

/** Our restore: the key is cached as the CLI does after unlocking, then timed from the restore call to its result. */
const ours = (run: Run): Promise<Figures> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const recovery = yield* Recovery.Recovery
      yield* recovery.storeSessionBackupPrivateKey(Redacted.make(keyBytes(run.privateKey)), run.version)
      const restore = yield* KeyBackupRestore.KeyBackupRestore
      const started = performance.now()
      const result = yield* restore.restoreKeyBackup()
      return { keys: result.imported, total: result.total, ms: performance.now() - started }
    }).pipe(Effect.provide(deviceLayer(run)), Effect.scoped),
  )

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => silent }

/** matrix-js-sdk's restore, as a js-sdk app does it: Rust crypto in IndexedDB, key cached, `restoreKeyBackup()` timed. */
const jsSdk = async (run: Run): Promise<Figures> => {
  const client = sdk.createClient({ baseUrl: run.url, accessToken: run.accessToken, userId: run.userId, deviceId: run.deviceId, logger: silent })
  await client.initRustCrypto({ useIndexedDB: true, cryptoDatabasePrefix: `restore-bench-${run.deviceId}` })
  const crypto = client.getCrypto()
  if (crypto === undefined) throw new Error("js-sdk has no crypto")
  await crypto.storeSessionBackupPrivateKey(keyBytes(run.privateKey), run.version)
  const started = performance.now()
  const result = await crypto.restoreKeyBackup()
  const ms = performance.now() - started
  client.stopClient()
  return { keys: result.imported, total: result.total, ms }
}

Object.assign(globalThis, { restoreBench: { ours, jsSdk } })
