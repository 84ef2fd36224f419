/**
 * Benchmark (prints figures, asserts nothing): upload N pending room keys through the KeyBackupEngine to the testkit
 * fake homeserver over loopback HTTP, and time encryption alone per CryptoBackend in the engine's batch size.
 * The fake runs in a child process, so the RSS printed is the client's alone.
 * Run: pnpm --filter @matrix-backup/bench bench:upload   (env: BENCH_KEYS=100000 BENCH_BATCH=100 BENCH_NOBLE_KEYS=5000)
 */
import { Duration, Effect, Layer, Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { connectAdmin, createUserWithCrossSigning, generateRoomKeys } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, CryptoBackend, DeviceKeys, Entropy, Ids, KeyBackupEngine, MegolmBackupV1, RoomKey } from "@matrix-backup/core"
import { Curve25519, UploadBatch } from "@matrix-backup/core/adapter"

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const BATCH = Number(process.env.BENCH_BATCH ?? 100)
const NOBLE_KEYS = Number(process.env.BENCH_NOBLE_KEYS ?? 5_000)

const toRoomKey = (k: ReturnType<typeof generateRoomKeys>[number]): RoomKey.RoomKey => RoomKey.fromExported(k, { imported: false })

let peakRss = 0
let peakHeap = 0
const sampler = setInterval(() => {
  const usage = process.memoryUsage()
  peakRss = Math.max(peakRss, usage.rss)
  peakHeap = Math.max(peakHeap, usage.heapUsed + usage.external + usage.arrayBuffers)
}, 50)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const rate = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString("en")} keys/s`

/** Encrypts `keys` in batches of BATCH with one backend, as the upload loop does (plaintext building included). */
const encryptOnly = (
  layer: Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy>,
  keys: ReadonlyArray<RoomKey.RoomKey>,
  entropy: Layer.Layer<Entropy.Entropy> = Entropy.layer,
) =>
  Effect.gen(function* () {
    const backend = yield* CryptoBackend.CryptoBackend
    const publicKey = Curve25519.publicKeyFromPrivateKey(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    const start = performance.now()
    for (let i = 0; i < keys.length; i += BATCH) {
      yield* backend.encryptSessions(publicKey, keys.slice(i, i + BATCH).map(UploadBatch.plaintextOf))
    }
    return performance.now() - start
  }).pipe(Effect.provide(layer.pipe(Layer.provide(entropy))))

/** Starts the fake homeserver in a child process (through vite-node, which run-ts.mjs names) and reads its URL. */
const startServerProcess = async () => {
  const viteConfig = fileURLToPath(new URL("../../../vitest.shared.ts", import.meta.url))
  const serverScript = fileURLToPath(new URL("./UploadBenchServer.ts", import.meta.url))
  const child = spawn(process.execPath, [process.env.MB_VITE_NODE ?? "", "-c", viteConfig, serverScript], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve)
    child.once("exit", () => reject(new Error("fake homeserver exited")))
  })
  const url: unknown = JSON.parse(first).url
  if (typeof url !== "string") throw new Error("fake homeserver printed no url")
  // Signal the whole process group: vite-node may start children of its own.
  const stop = () => (child.pid === undefined ? undefined : process.kill(-child.pid, "SIGTERM"))
  return { url, admin: connectAdmin(url), stop }
}

/** A stand-in backend for the ceiling run: every session gets one precomputed ciphertext (no crypto per key). */
const precomputedLayer = (template: MegolmBackupV1.SessionData): Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy> =>
  Layer.effect(
    CryptoBackend.CryptoBackend,
    Effect.map(Entropy.Entropy, (entropy) => ({
      ...CryptoBackend.makeNoble(entropy),
      encryptSessions: (_publicKey, plaintexts) => Effect.succeed(plaintexts.map(() => template)),
    })),
  )

type Server = Awaited<ReturnType<typeof startServerProcess>>
type Identity = Awaited<ReturnType<typeof createUserWithCrossSigning>>

/** Adds `keys` to a fresh memory store, resets the backup (deleting the previous run's) and waits until all are up. */
const uploadRun = async (server: Server, identity: Identity, keys: ReadonlyArray<RoomKey.RoomKey>, crypto: Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy>) => {
  const ports = Layer.mergeAll(
    FetchHomeserverApi.layerFetch({ baseUrl: server.url, accessToken: Redacted.make(identity.accessToken), userId: Ids.UserId.make(identity.userId) }),
    DeviceKeys.layerFromSeeds({ userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)) }),
    BackupStore.layerMemory,
    BackupEvents.layer,
    crypto.pipe(Layer.provideMerge(Entropy.layer)),
  )
  const engine = KeyBackupEngine.layerWithoutSecretStorage({ batchSize: BATCH, maxStartJitter: 0, steadyStateTimeout: Duration.minutes(30) }).pipe(Layer.provideMerge(ports))
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const e = yield* KeyBackupEngine.KeyBackupEngine
        yield* e.addRoomKeys(keys)
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const start = performance.now()
        yield* e.resetKeyBackup()
        yield* e.waitForBackupSteadyState()
        return performance.now() - start
      }).pipe(Effect.provide(engine)),
    ),
  )
}

const main = async () => {
  const t = performance.now()
  const keys = generateRoomKeys(KEYS, { rooms: Math.ceil(KEYS / 200) }).map(toRoomKey)
  console.log(`generated ${KEYS} room keys in ${(performance.now() - t).toFixed(0)} ms`)

  const server = await startServerProcess()
  try {
    const identity = await createUserWithCrossSigning(server.url)
    const rssBefore = process.memoryUsage().rss
    const heapBefore = process.memoryUsage().heapUsed
    peakRss = rssBefore
    peakHeap = 0
    const uploadMs = await uploadRun(server, identity, keys, CryptoBackend.layerWebCrypto)
    const log = await server.admin.requestLog()
    const puts = log.filter((entry) => entry.method === "PUT" && entry.path.endsWith("/room_keys/keys")).length
    const stored = (await server.admin.backupVersions(identity.userId)).at(-1)?.count ?? 0
    console.log(
      `upload through the engine over loopback (webcrypto): ${rate(KEYS, uploadMs)} (${KEYS} keys in ${uploadMs.toFixed(0)} ms; ` +
        `${log.length} requests, ${puts} key PUTs; server count ${stored})`,
    )
    const gc: unknown = Reflect.get(globalThis, "gc")
    if (typeof gc === "function") gc()
    console.log(`JS heap after the upload and a full GC: ${mb(process.memoryUsage().heapUsed)} (store and keys still held)`)
    console.log(`RSS before upload ${mb(rssBefore)}, peak during the run ${mb(peakRss)}; JS heap before ${mb(heapBefore)}, peak heap+external ${mb(peakHeap)}`)
    const publicKey = Curve25519.publicKeyFromPrivateKey(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    const template = MegolmBackupV1.encryptSessionData(publicKey, UploadBatch.plaintextOf(keys[0] ?? toRoomKey(generateRoomKeys(1)[0] ?? fail())), globalThis.crypto.getRandomValues(new Uint8Array(32)))
    if (typeof gc === "function") gc()
    peakRss = process.memoryUsage().rss
    const ceilingRssBefore = peakRss
    const ceilingMs = await uploadRun(server, identity, keys, precomputedLayer(template))
    console.log(
      `engine + HTTP ceiling (one precomputed ciphertext for every key, no per-key crypto): ${rate(KEYS, ceilingMs)}; ` +
        `RSS ${mb(ceilingRssBefore)} → peak ${mb(peakRss)}`,
    )
    const webMs = await Effect.runPromise(encryptOnly(CryptoBackend.layerWebCrypto, keys))
    console.log(`encryption alone, webcrypto, batches of ${BATCH}: ${rate(KEYS, webMs)} (${KEYS} keys in ${webMs.toFixed(0)} ms)`)
    const seededMs = await Effect.runPromise(encryptOnly(CryptoBackend.layerWebCrypto, keys, Entropy.layerSeeded("bench")))
    console.log(`encryption alone, webcrypto with seeded entropy (ephemeral keys imported as PKCS#8, as in tests): ${rate(KEYS, seededMs)}`)
    const nobleKeys = keys.slice(0, NOBLE_KEYS)
    const nobleMs = await Effect.runPromise(encryptOnly(CryptoBackend.layerNoble, nobleKeys))
    console.log(`encryption alone, noble, batches of ${BATCH}: ${rate(nobleKeys.length, nobleMs)} (${nobleKeys.length} keys)`)
  } finally {
    clearInterval(sampler)
    server.stop()
  }
}

function fail(): never {
  throw new Error("bench: no key generated")
}

await main()
process.exit(0)
