// Restore test harness: the testkit fake homeserver over real loopback HTTP, the fetch HomeserverApi and a real
// store (memory or SQLite).
import { FetchHttpClient, HttpClient } from "@effect/platform"
import type { Context } from "effect"
import { Duration, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import type { FakeHomeserverAdmin, FakeHomeserverOptions, TestUser } from "@matrix-backup/testkit"
import { FakeHomeserver, registerUser } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, CryptoBackend, Entropy, HomeserverApi, Ids, KeyBackupRestore } from "@matrix-backup/core"

export { BROKEN_KINDS, brokenEntries, generateRoomKeys, randomBackupPublicKey, seedBackup } from "@matrix-backup/testkit"
export type { BrokenKind, ExportedRoomKey } from "@matrix-backup/testkit"

/** Which real store a test runs on. */
export type StoreKind = "memory" | "sqlite"
export const STORE_KINDS: ReadonlyArray<StoreKind> = ["memory", "sqlite"]

export interface Harness {
  readonly admin: FakeHomeserverAdmin
  readonly user: TestUser
  readonly url: string
  readonly api: HomeserverApi.Service
}

const sqliteLayer = Layer.unwrapScoped(
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "restore-test-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
    ),
    (dir) => Layer.orDie(SqliteBackupStore.layer({ filename: join(dir, "store.sqlite") })),
  ),
)

/** A real store of `kind`; SQLite lives in a temporary directory removed with the scope. */
export const storeLayer = (kind: StoreKind): Layer.Layer<BackupStore.BackupStore> =>
  kind === "memory" ? BackupStore.layerMemory : sqliteLayer

/** The crypto backend (Web Crypto where X25519 is native) with real entropy. */
export const cryptoLayer = (backend: "auto" | "noble" = "auto"): Layer.Layer<CryptoBackend.CryptoBackend> =>
  (backend === "noble" ? CryptoBackend.layerNoble : CryptoBackend.layer).pipe(Layer.provide(Entropy.layer))

/** Fast retries so fault tests do not wait seconds. */
export const FAST_RETRY = { maxAttempts: 3, baseDelay: Duration.millis(5), maxDelay: Duration.millis(20) }

/** Runs `f` with a fresh fake server (one per test, `options` such as its profile), a registered user and its fetch HomeserverApi. */
export const withServer = <A, E, R>(f: (harness: Harness) => Effect.Effect<A, E, R>, options: FakeHomeserverOptions = {}): Effect.Effect<A, E, Exclude<R, never>> =>
  Effect.gen(function* () {
    const { url, admin } = yield* FakeHomeserver
    const user = yield* Effect.promise(() => registerUser(url))
    const client = yield* HttpClient.HttpClient
    const api = FetchHomeserverApi.make(
      { baseUrl: url, accessToken: Redacted.make(user.accessToken), userId: Ids.UserId.make(user.userId), retry: FAST_RETRY },
      client,
    )
    return yield* f({ admin, user, url, api })
  }).pipe(Effect.provide(FakeHomeserver.layerServer(options)), Effect.provide(FetchHttpClient.layer))

/** The ports a restore needs around `api`. */
export const portsLayer = (api: HomeserverApi.Service, kind: StoreKind) =>
  Layer.mergeAll(Layer.succeed(HomeserverApi.HomeserverApi, api), storeLayer(kind), cryptoLayer(), BackupEvents.layer)

/** A fresh backup private key. */
export const newBackupKey = (): Uint8Array => new Uint8Array(randomBytes(32))

/** Runs `f` with the restore service over the harness' API and a fresh store of `kind`. */
export const withRestore = <A, E>(
  kind: StoreKind,
  f: (h: Harness, restore: Context.Tag.Service<KeyBackupRestore.KeyBackupRestore>) => Effect.Effect<A, E, BackupStore.BackupStore>,
  options: FakeHomeserverOptions = {},
) =>
  withServer(
    (h) =>
      Effect.flatMap(KeyBackupRestore.KeyBackupRestore, (restore) => f(h, restore)).pipe(
        Effect.provide(KeyBackupRestore.layer.pipe(Layer.provideMerge(portsLayer(h.api, kind)))),
      ),
    options,
  )

