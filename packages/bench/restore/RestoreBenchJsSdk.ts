// Restore benchmark, matrix-js-sdk 43 side: a new device with the Rust/wasm crypto (in memory) caches the backup
// key and calls `restoreKeyBackup()`. Prints one JSON line: keys restored, wall time and peak RSS.
// matrix-js-sdk 43 calls the ES2024 Promise.withResolvers, which Node 20 lacks: polyfill before it loads.
import "@matrix-backup/testkit/PromiseWithResolvers"
import * as sdk from "matrix-js-sdk"
import { loginNewDevice } from "@matrix-backup/testkit"

const server = JSON.parse(process.env.RESTORE_BENCH_SERVER ?? "{}")
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild() { return silent } }

const device = await loginNewDevice(server.url, { userId: server.userId, password: server.password })
const client = sdk.createClient({ baseUrl: server.url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId, logger: silent })
await client.initRustCrypto({ useIndexedDB: false })
const crypto = client.getCrypto()
if (crypto === undefined) throw new Error("no crypto")
await crypto.storeSessionBackupPrivateKey(new Uint8Array(Buffer.from(server.privateKey, "base64")), server.version)
const started = performance.now()
const result = await crypto.restoreKeyBackup()
const ms = performance.now() - started
client.stopClient()
process.stdout.write(`${JSON.stringify({ keys: result.imported, total: result.total, ms, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`)
process.exit(0)
