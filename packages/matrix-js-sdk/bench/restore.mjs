/* global process, performance, Buffer */
// Benchmark client: a new js-sdk device (Rust crypto, in memory) holding the backup key restores the whole backup,
// either with js-sdk's own `restoreKeyBackup` or through this package's built bridge. Prints one JSON line.
import "@matrix-backup/testkit/PromiseWithResolvers"
import { loginNewDevice } from "@matrix-backup/testkit"
import * as sdk from "matrix-js-sdk"
import { restoreKeyBackup } from "../dist/index.js"

const [side, threads] = process.argv.slice(2)
const server = JSON.parse(process.env.BRIDGE_BENCH_SERVER ?? "{}")
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => silent }

const device = await loginNewDevice(server.url, { userId: server.userId, password: server.password })
const client = sdk.createClient({ baseUrl: server.url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId, logger: silent })
await client.initRustCrypto({ useIndexedDB: false })
const crypto = client.getCrypto()
await crypto.storeSessionBackupPrivateKey(new Uint8Array(Buffer.from(server.privateKey, "base64")), server.version)
const started = performance.now()
const result = side === "js-sdk" ? await crypto.restoreKeyBackup() : await restoreKeyBackup(client, { decryptionThreads: Number(threads) })
const ms = performance.now() - started
client.stopClient()
process.stdout.write(`${JSON.stringify({ side, total: result.total, imported: result.imported, ms, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`)
process.exit(0)
