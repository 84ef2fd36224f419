// Restore benchmark, our side: restores the served backup into a fresh SQLite file with KeyBackupRestore.
// Prints one JSON line: keys restored, wall time of the restore and the process' peak RSS.
import { FetchHttpClient, HttpClient } from "@effect/platform"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { BackupEvents, CryptoBackend, Entropy, HomeserverApi, Ids, KeyBackupRestore } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { Worker } from "node:worker_threads"
import { NodeCryptoBackend, NodeDecryptPool } from "@matrix-backup/crypto-node"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import { BackupStore } from "@matrix-backup/core"
import { Effect, Layer, Redacted } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const server = JSON.parse(process.env.RESTORE_BENCH_SERVER ?? "{}")
const backend = process.env.RESTORE_BENCH_BACKEND ?? "auto"
const workers = Number(process.env.RESTORE_BENCH_WORKERS ?? 0)
const batchSize = Number(process.env.RESTORE_BENCH_BATCH ?? 200)
const concurrency = Number(process.env.RESTORE_BENCH_CONCURRENCY ?? 4)
const requestsPerWorker = Number(process.env.RESTORE_BENCH_WORKER_REQUESTS ?? 2)
const dir = mkdtempSync(join(tmpdir(), "restore-bench-"))
// Samples the heap split so a high RSS can be attributed (V8 heap vs buffers vs the rest, e.g. SQLite pages).
const peak = { heapUsedMb: 0, externalMb: 0, rssAnonMb: 0, rssFileMb: 0 }
const statusMb = (field: string): number => {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"))
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}
const sampler = setInterval(() => {
  peak.rssAnonMb = Math.max(peak.rssAnonMb, statusMb("RssAnon"))
  peak.rssFileMb = Math.max(peak.rssFileMb, statusMb("RssFile"))
  const m = process.memoryUsage()
  peak.heapUsedMb = Math.max(peak.heapUsedMb, m.heapUsed / 2 ** 20)
  peak.externalMb = Math.max(peak.externalMb, m.external / 2 ** 20)
}, 50)
// With --expose-gc (run.mjs --live-heap): the heap still in use after a full collection, before and during the
// restore, to tell what the restore retains from what V8 merely has not collected yet. Slows the restore.
const collect = (globalThis as { gc?: () => void }).gc
const liveHeapMb = () => {
  collect?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}
const live = { beforeMb: 0, maxMb: 0 }
const liveSampler = collect === undefined ? undefined : setInterval(() => (live.maxMb = Math.max(live.maxMb, liveHeapMb())), 500)

const api = Layer.effect(
  HomeserverApi.HomeserverApi,
  Effect.map(HttpClient.HttpClient, (client) =>
    FetchHomeserverApi.make({ baseUrl: server.url, accessToken: Redacted.make(server.accessToken), userId: Ids.UserId.make(server.userId) }, client),
  ),
).pipe(Layer.provide(FetchHttpClient.layer))
const local = (backend === "noble" ? CryptoBackend.layerNoble : backend === "node" ? NodeCryptoBackend.layer : CryptoBackend.layer).pipe(Layer.provide(Entropy.layer))
const workerFile = new URL("./DecryptWorkerNode.mjs", import.meta.url)
const crypto =
  workers === 0
    ? local
    : backend === "node"
      ? NodeDecryptPool.layer({ size: workers, requestsPerWorker, entry: new URL("./DecryptWorkerMain.mjs", import.meta.url) }).pipe(Layer.provide(Entropy.layer))
      : DecryptWorker.layerPool({ size: workers, requestsPerWorker }).pipe(Layer.provide(local), Layer.provide(NodeWorker.layer(() => new Worker(workerFile))), Layer.orDie)
const ports = Layer.mergeAll(api, SqliteBackupStore.layer({ filename: join(dir, "bench.sqlite") }), crypto, BackupEvents.layer)

const program = Effect.gen(function* () {
  const store = yield* BackupStore.BackupStore
  yield* store.storeBackupDecryptionKey(Redacted.make(new Uint8Array(Buffer.from(server.privateKey, "base64"))), server.version)
  const restore = yield* KeyBackupRestore.KeyBackupRestore
  const rssAtStartMb = process.memoryUsage().rss / 2 ** 20
  if (collect !== undefined) live.beforeMb = liveHeapMb()
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  const result = yield* restore.restoreKeyBackup({ batchSize, concurrency })
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const stored = yield* store.countTotal()
  return { keys: result.imported, total: result.total, stored, ms, cpuMs: (cpu.user + cpu.system) / 1000, rssAtStartMb, rssMb: process.resourceUsage().maxRSS / 1024, ...peak, ...(collect === undefined ? {} : { live }), backend: `${(yield* CryptoBackend.CryptoBackend).name}${workers > 0 ? ` on ${workers} workers ×${requestsPerWorker}` : ""}` }
}).pipe(Effect.provide(KeyBackupRestore.layer.pipe(Layer.provideMerge(ports))))

try {
  const out = await Effect.runPromise(program)
  process.stdout.write(`${JSON.stringify(out)}\n`)
} finally {
  clearInterval(sampler)
  clearInterval(liveSampler)
  rmSync(dir, { recursive: true, force: true })
}
