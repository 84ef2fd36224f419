// Scale: a 100,000-key backup is stored, counted and served whole, as a streamed body. Not timed:
// figures come from `pnpm --filter @matrix-backup/testkit bench`.
import { describe, expect, it } from "@effect/vitest"
import type { StoredRoomKey } from "../src/index.js"
import { registerUser } from "../src/index.js"
import { useServer, v3 } from "./support.js"

const COUNT = 100_000

describe("scale", () => {
  const server = useServer()

  it("stores, counts and serves 100,000 keys in one GET", { timeout: 120_000 }, async () => {
    const user = await registerUser(server.current.url)
    const version = await server.current.admin.resetBackupAsOtherDevice(user.userId)
    const entries: Array<StoredRoomKey> = []
    for (let i = 0; i < COUNT; i++) {
      entries.push({
        roomId: `!room${i % 500}:localhost`,
        sessionId: `session/${i}+${"x".repeat(30)}`,
        data: { first_message_index: i % 7, forwarded_count: 0, is_verified: false, session_data: { ephemeral: "e".repeat(43), ciphertext: "c".repeat(300), mac: "m".repeat(11) } },
      })
    }
    await server.current.admin.insertRoomKeys(user.userId, version, entries)
    const headers = { authorization: `Bearer ${user.accessToken}` }
    const info = await (await fetch(`${server.current.url}${v3("/room_keys/version")}`, { headers })).json()
    expect(info.count).toBe(COUNT)
    const response = await fetch(`${server.current.url}${v3(`/room_keys/keys?version=${version}`)}`, { headers })
    expect(response.headers.get("transfer-encoding")).toBe("chunked")
    const body = await response.json()
    const rooms = Object.values(body.rooms as Record<string, { sessions: Record<string, { first_message_index: number }> }>)
    expect(rooms).toHaveLength(500)
    expect(rooms.reduce((n, room) => n + Object.keys(room.sessions).length, 0)).toBe(COUNT)
    expect(body.rooms["!room3:localhost"].sessions[`session/3+${"x".repeat(30)}`].first_message_index).toBe(3)
  })
})
