// Restore benchmark, server side: a fake homeserver in its own process holding a seeded backup of N keys.
// Prints one JSON line (url, account, version, private key and its recovery-key form) and serves until stdin closes.
// With a third argument "accounts" the rooms are shaped like real accounts: one room of 20,000 sessions, then a few
// hundred rooms of uneven size (each slice spreads over a different number of rooms).
import { randomBytes } from "node:crypto"
import { RecoveryKey } from "@matrix-backup/core"
import { generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "@matrix-backup/testkit"

const count = Number(process.argv[2] ?? 10_000)
const reuse = Number(process.argv[3] ?? 1)
const accounts = process.argv[4] === "accounts"

const server = await startFakeHomeserver()
const user = await registerUser(server.url)
process.stderr.write("registered\n")
const privateKey = randomBytes(32)
const started = performance.now()
let version = ""
// Seeded in slices so the generator's arrays stay small at 500k keys.
const SLICE = 20_000
const roomsFor = (slice: number, size: number) =>
  accounts ? (slice === 0 ? 1 : [300, 40, 150, 7, 220][slice % 5] ?? 100) : Math.max(1, Math.ceil(size / 100))
for (let done = 0, slice = 0; done < count; done += SLICE, slice++) {
  const size = Math.min(SLICE, count - done)
  const keys = generateRoomKeys(size, { rooms: roomsFor(slice, size) })
  const seeded = await seedBackup(server.admin, user.userId, { backupPrivateKey: privateKey, keys, ephemeralReuse: reuse, ...(version ? { version } : {}) })
  version = seeded.version
  process.stderr.write(`seeded ${done + keys.length} keys\n`)
}
if (count === 0) version = (await seedBackup(server.admin, user.userId, { backupPrivateKey: privateKey, keys: [] })).version
process.stdout.write(
  `${JSON.stringify({ url: server.url, userId: user.userId, password: user.password, accessToken: user.accessToken, version, privateKey: privateKey.toString("base64"), recoveryKey: RecoveryKey.encodeRecoveryKey(privateKey), seedMs: performance.now() - started })}\n`,
)
process.stdin.resume()
process.stdin.on("end", () => void server.stop().then(() => process.exit(0)))
