// The worker-pool CryptoBackend on real Node worker_threads: its results equal the local backend's, item by item,
// for good and broken sessions, and a restore over loopback HTTP through it imports every key.
import { NodeWorker } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { build } from "esbuild"
import { backupPublicKeyFromPrivate, encryptRoomKeys } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, CryptoBackend, HomeserverApi, KeyBackupRestore } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { cacheKey, seed } from "./fixtures.js"
import { brokenEntries, cryptoLayer, generateRoomKeys, newBackupKey, withServer } from "./support.js"

const dir = mkdtempSync(join(tmpdir(), "decrypt-worker-"))
const workerFile = join(dir, "worker.mjs")

beforeAll(async () => {
  // Node cannot run the TypeScript sources in a worker thread: bundle the runner entry first (from core's sources).
  await build({
    stdin: {
      contents: `
        import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
        import { WorkerRunner } from "@effect/platform"
        import { Layer } from "effect"
        import { CryptoBackend, Entropy } from "@matrix-backup/core"
        import { DecryptWorker } from "@matrix-backup/core/adapter"
        WorkerRunner.launch(DecryptWorker.layerRunner.pipe(Layer.provide(NodeWorkerRunner.layer), Layer.provide(CryptoBackend.layer.pipe(Layer.provide(Entropy.layer))))).pipe(NodeRuntime.runMain)`,
      resolveDir: fileURLToPath(new URL("..", import.meta.url)),
      loader: "ts",
    },
    outfile: workerFile,
    bundle: true,
    platform: "node",
    format: "esm",
    conditions: ["@matrix-backup/source"],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  })
}, 60_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const poolOf = (options: DecryptWorker.PoolOptions) =>
  DecryptWorker.layerPool(options).pipe(
    Layer.provide(cryptoLayer()),
    Layer.provide(NodeWorker.layer(() => new Worker(workerFile))),
    Layer.orDie,
  )
const pooled = poolOf({ size: 2 })

describe("DecryptWorker.layerPool", () => {
  it.live.each([
    { size: 2 },
    { size: 1, requestsPerWorker: 1 },
    { size: 1, requestsPerWorker: 3 },
  ])("decrypts like the local backend, failure reasons included, across requests in order (%o)", (options) =>
    Effect.gen(function* () {
      const privateKey = newBackupKey()
      const publicKey = backupPublicKeyFromPrivate(privateKey)
      // More than two requests' worth (MAX_ITEMS_PER_REQUEST), with broken entries in the first and the last one.
      const broken = () => brokenEntries(publicKey, ["badPadding", "wrongKey", "notJson"])
      const entries = [...broken(), ...encryptRoomKeys(publicKey, generateRoomKeys(2 * DecryptWorker.MAX_ITEMS_PER_REQUEST + 100)), ...broken()]
      const items = entries.map((e) => e.data.session_data as { ephemeral: string; ciphertext: string; mac: string })
      const key = Redacted.make(privateKey)
      const remote = yield* Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.decryptSessions(key, items)).pipe(Effect.provide(poolOf(options)))
      const local = yield* Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.decryptSessions(key, items)).pipe(Effect.provide(cryptoLayer()))
      expect(remote).toHaveLength(items.length)
      const show = (r: (typeof remote)[number]) => (Either.isRight(r) ? Buffer.from(r.right).toString("hex") : `${r.left.reason}:${r.left.field ?? ""}`)
      expect(remote.map(show)).toEqual(local.map(show))
      expect(remote.filter(Either.isRight)).toHaveLength(2 * DecryptWorker.MAX_ITEMS_PER_REQUEST + 100 + 2)
    }),
  )

  it.live("a restore through the pool imports every key", () =>
    withServer((h) =>
      Effect.gen(function* () {
        const restore = yield* KeyBackupRestore.KeyBackupRestore
        const seeded = yield* seed(h.admin, h.user.userId, { count: 1500 })
        yield* cacheKey(seeded)
        const result = yield* restore.restoreKeyBackup({ concurrency: 2 })
        expect(result).toMatchObject({ total: 1500, imported: 1500 })
      }).pipe(
        Effect.provide(
          KeyBackupRestore.layer.pipe(
            Layer.provideMerge(Layer.mergeAll(Layer.succeed(HomeserverApi.HomeserverApi, h.api), BackupStore.layerMemory, pooled, BackupEvents.layer)),
          ),
        ),
      ),
    ),
  )
})
