// Restore benchmark, server side: a fake homeserver in its own process holding a seeded backup of N keys.
// Prints one JSON line (url, account, version, private key) and serves until stdin closes.
import { randomBytes } from "node:crypto"
import { generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "@matrix-backup/testkit"

const count = Number(process.argv[2] ?? 10_000)
const reuse = Number(process.argv[3] ?? 1)

const server = await startFakeHomeserver()
const user = await registerUser(server.url)
process.stderr.write("registered\n")
const privateKey = randomBytes(32)
const started = performance.now()
let version = ""
// Seeded in slices so the generator's arrays stay small at 500k keys.
for (let done = 0; done < count; done += 50_000) {
  const keys = generateRoomKeys(Math.min(50_000, count - done), { rooms: Math.max(1, Math.ceil(Math.min(50_000, count - done) / 100)) })
  const seeded = await seedBackup(server.admin, user.userId, { backupPrivateKey: privateKey, keys, ephemeralReuse: reuse, ...(version ? { version } : {}) })
  version = seeded.version
  process.stderr.write(`seeded ${done + keys.length} keys\n`)
}
if (count === 0) version = (await seedBackup(server.admin, user.userId, { backupPrivateKey: privateKey, keys: [] })).version
process.stdout.write(
  `${JSON.stringify({ url: server.url, userId: user.userId, password: user.password, accessToken: user.accessToken, version, privateKey: privateKey.toString("base64"), seedMs: performance.now() - started })}\n`,
)
process.stdin.resume()
process.stdin.on("end", () => void server.stop().then(() => process.exit(0)))
