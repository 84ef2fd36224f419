/* global process, performance, Buffer */
// Benchmark server: a fake homeserver in its own process with one seeded backup of N keys. Prints one JSON line
// (url, account, version, backup key) and serves until stdin closes.
import { randomBytes } from "node:crypto"
import { generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "@matrix-backup/testkit"

const count = Number(process.argv[2] ?? 100_000)
const server = await startFakeHomeserver()
const user = await registerUser(server.url)
const privateKey = randomBytes(32)
const started = performance.now()
let version
// Seeded in slices so the generated arrays stay small.
for (let done = 0; done < count; done += 20_000) {
  const size = Math.min(20_000, count - done)
  const keys = generateRoomKeys(size, { rooms: Math.max(1, Math.ceil(size / 100)) })
  version = (await seedBackup(server.admin, user.userId, { backupPrivateKey: privateKey, keys, ...(version ? { version } : {}) })).version
}
const line = { url: server.url, userId: user.userId, password: user.password, version, privateKey: Buffer.from(privateKey).toString("base64"), seedMs: performance.now() - started }
process.stdout.write(`${JSON.stringify(line)}\n`)
process.stdin.resume()
process.stdin.on("end", () => void server.stop().then(() => process.exit(0)))
