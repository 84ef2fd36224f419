// Bench helper process: a fake homeserver seeded with N realistic-size backup entries. Prints one
// JSON line {url, userId, accessToken, version} and serves until stdin closes. It runs apart from
// the measured client so the server's state and its rendering of the body do not count.
import { registerUser, startFakeHomeserver } from "@matrix-backup/testkit"
import { randomBytes } from "node:crypto"

const count = Number(process.argv.filter((a) => /^\d+$/.test(a))[0] ?? 100_000)
const b64 = (n: number) => randomBytes(n).toString("base64").replace(/=+$/, "")

const server = await startFakeHomeserver()
const user = await registerUser(server.url)
const version = await server.admin.resetBackupAsOtherDevice(user.userId)
const rooms = Math.max(1, Math.round(count / 200))
for (let start = 0; start < count; start += 10_000) {
  const batch = Array.from({ length: Math.min(10_000, count - start) }, (_, j) => {
    const i = start + j
    return {
      roomId: `!room${i % rooms}:localhost`,
      sessionId: b64(32),
      data: {
        first_message_index: i % 50,
        forwarded_count: 0,
        is_verified: false,
        // A ~450-byte plaintext gives 464 bytes of AES-CBC ciphertext; ephemeral 32 bytes; MAC 8 bytes.
        session_data: { ephemeral: b64(32), ciphertext: b64(464), mac: b64(8) },
      },
    }
  })
  await server.admin.insertRoomKeys(user.userId, version, batch)
}
process.stdout.write(`${JSON.stringify({ url: server.url, userId: user.userId, accessToken: user.accessToken, version })}\n`)
process.stdin.resume()
process.stdin.on("end", () => void server.stop().then(() => process.exit(0)))
