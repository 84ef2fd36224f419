/* global process, performance, Buffer */
// Benchmark client: a new js-sdk device (Rust crypto, in memory) holding the backup key restores the whole backup
// with js-sdk's own `restoreKeyBackup` ("js-sdk"), through this package's built bridge ("bridge"), or measures the
// import-only ceiling ("ceiling": the bridge decrypts every key into memory untimed, then only js-sdk's
// `importBackedUpRoomKeys` is timed, in batches of `batch`). Prints one JSON line.
import "@matrix-backup/testkit/PromiseWithResolvers"
import { loginNewDevice } from "@matrix-backup/testkit"
import * as sdk from "matrix-js-sdk"
import { restoreKeyBackup } from "../dist/index.js"

const [side, threads, batch, where] = process.argv.slice(2)
const server = JSON.parse(process.env.BRIDGE_BENCH_SERVER ?? "{}")
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => silent }
const opts = {
  ...(threads === "default" ? {} : { decryptionThreads: Number(threads) }),
  ...(batch ? { batchSize: Number(batch) } : {}),
  ...(where === "main" ? { offThread: false } : {}),
}

const device = await loginNewDevice(server.url, { userId: server.userId, password: server.password })
const client = sdk.createClient({ baseUrl: server.url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId, logger: silent })
await client.initRustCrypto({ useIndexedDB: false })
const crypto = client.getCrypto()
// js-sdk checks the server's backup in the background when its crypto starts, and enables uploads to it if it holds
// the matching key by the time the answer comes: a race with the line after next. Awaiting the check first makes the
// state the same for every run: uploads off (the key is not there yet), unless BRIDGE_BENCH_BACKUP_ON enables them
// after storing the key. With uploads on, every import wakes js-sdk's upload loop, whose check for keys to upload
// reads every session of the in-memory store (counted as "scans" below).
await crypto.checkKeyBackupAndEnable()
await crypto.storeSessionBackupPrivateKey(new Uint8Array(Buffer.from(server.privateKey, "base64")), server.version)
if (process.env.BRIDGE_BENCH_BACKUP_ON === "1") await crypto.checkKeyBackupAndEnable()

/** Decrypts the backup into memory through the bridge (untimed), then times importing it in batches of `size`. */
const ceiling = async (size) => {
  const importKeys = crypto.importBackedUpRoomKeys.bind(crypto)
  const decrypted = []
  crypto.importBackedUpRoomKeys = async (keys) => void decrypted.push(...keys)
  await restoreKeyBackup(client, opts)
  crypto.importBackedUpRoomKeys = importKeys
  const started = performance.now()
  for (let i = 0; i < decrypted.length; i += size) await importKeys(decrypted.slice(i, i + size), server.version)
  return { result: { total: decrypted.length, imported: decrypted.length }, started }
}

// js-sdk's backup loop, woken by every import, asks the OlmMachine for keys to upload; with the in-memory store
// that reads every session held so far. Counted and timed here (a private field: diagnostics only).
const scans = { count: 0, ms: 0 }
const machine = Reflect.get(crypto, "olmMachine")
const backupRoomKeys = machine.backupRoomKeys.bind(machine)
machine.backupRoomKeys = async () => {
  const t = performance.now()
  try {
    return await backupRoomKeys()
  } finally {
    scans.count++
    scans.ms += performance.now() - t
  }
}

const cpuBefore = process.cpuUsage()
let started = performance.now()
let result
if (side === "ceiling") ({ result, started } = await ceiling(Number(batch ?? 1000)))
else result = side === "js-sdk" ? await crypto.restoreKeyBackup() : await restoreKeyBackup(client, opts)
const ms = performance.now() - started
const cpu = process.cpuUsage(cpuBefore)
// CPU time of every thread of the process during the run (the ceiling's includes its untimed decryption).
const cpuMs = (cpu.user + cpu.system) / 1000
client.stopClient()
process.stdout.write(`${JSON.stringify({ side, total: result.total, imported: result.imported, ms, cpuMs, scans, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`)
process.exit(0)
