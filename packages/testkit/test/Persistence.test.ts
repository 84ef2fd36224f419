// Persistence: with a data file, state survives a restart; files are replaced atomically and a file
// that is not a state file is refused with a clear error.
import { describe, expect, it, vi } from "@effect/vitest"
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "../src/index.js"
import { call, v3 } from "./support.js"

describe("persistence", () => {
  it("keeps users, tokens, account data, keys and backups across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-hs-"))
    const dataFile = join(dir, "state.json")
    const first = await startFakeHomeserver({ dataFile })
    const user = await registerUser(first.url, { username: "persist" })
    await call(first.url, "PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.x`), { token: user.accessToken, body: { v: 1 } })
    await call(first.url, "POST", v3("/room_keys/version"), { token: user.accessToken, body: { algorithm: "a", auth_data: { k: 1 } } })
    await call(first.url, "DELETE", v3("/room_keys/version/1"), { token: user.accessToken })
    await call(first.url, "POST", v3("/room_keys/version"), { token: user.accessToken, body: { algorithm: "a", auth_data: { k: 2 } } })
    await seedBackup(first.admin, user.userId, { backupPublicKey: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", keys: generateRoomKeys(25) })
    await first.stop()
    expect(readdirSync(dir)).toEqual(["state.json"])

    const second = await startFakeHomeserver({ dataFile })
    try {
      expect((await call(second.url, "GET", v3("/account/whoami"), { token: user.accessToken })).body.user_id).toBe(user.userId)
      expect((await call(second.url, "GET", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.x`), { token: user.accessToken })).body).toEqual({ v: 1 })
      expect((await call(second.url, "GET", v3("/room_keys/version"), { token: user.accessToken })).body).toMatchObject({ version: "2", count: 25, auth_data: { k: 2 } })
      // The deleted version still blocks its number.
      expect((await call(second.url, "POST", v3("/room_keys/version"), { token: user.accessToken, body: { algorithm: "a", auth_data: {} } })).body.version).toBe("3")
      expect((await second.admin.roomKeys(user.userId, "2")).length).toBe(25)
    } finally {
      await second.stop()
    }
  })

  it("writes after changes without waiting for stop (debounced)", async () => {
    const dataFile = join(mkdtempSync(join(tmpdir(), "fake-hs-")), "state.json")
    const server = await startFakeHomeserver({ dataFile })
    try {
      await registerUser(server.url, { username: "early" })
      // The write comes when the debounce timer fires: wait for it, not for a guessed time.
      await vi.waitFor(() => expect(existsSync(dataFile) && readFileSync(dataFile, "utf8")).toContain("@early:localhost"), { timeout: 5000, interval: 10 })
    } finally {
      await server.stop()
    }
  })

  it("refuses a file that is not a state file", async () => {
    const dataFile = join(mkdtempSync(join(tmpdir(), "fake-hs-")), "state.json")
    writeFileSync(dataFile, JSON.stringify({ hello: 1 }))
    await expect(startFakeHomeserver({ dataFile })).rejects.toThrow(/not a fake-homeserver state file/)
  })
})
