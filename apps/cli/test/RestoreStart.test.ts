// A restore with a recovery key starts its download without waiting for the engine's check of the key it keeps: that
// check (its keys/query) runs alongside, still runs, and the key stays on the device for later runs.
import { generateRoomKeys, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { cli, stateDir } from "./support.js"

let server: RunningFakeHomeserver
beforeEach(async () => {
  server = await startFakeHomeserver()
})
afterEach(async () => {
  await server.stop()
})

const downloads = async () =>
  (await server.admin.requestLog()).filter((e) => e.method === "GET" && e.path.endsWith("/room_keys/keys") && e.status === 200)

describe("restore start-up", () => {
  it("downloads while the engine's check of the new key is held, then finishes it; the device keeps the key", { timeout: 120_000 }, async () => {
    const user = await registerUser(server.url)
    const owner = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir()]
    const created = await cli(["create", ...owner, "--json"])
    const recoveryKey = String(created.json?.["recoveryKey"])
    const file = join(stateDir(), "keys.json")
    writeFileSync(file, JSON.stringify(generateRoomKeys(12)))
    expect((await cli(["import", ...owner, "--in", file, "--json"])).json).toMatchObject({ imported: 12, uploaded: 12 })

    await server.admin.clearRequestLog()
    const check = await server.admin.injectFault({ kind: "hold", match: { method: "POST", path: "/keys/query" } })
    const device = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir()]
    const running = cli(["restore", ...device, "--recovery-key", recoveryKey, "--json"])
    await server.admin.awaitHeld(check)
    await vi.waitFor(async () => expect(await downloads()).toHaveLength(1), { timeout: 30_000, interval: 50 })
    expect(await server.admin.releaseHeld(check)).toBeGreaterThanOrEqual(1)
    const restored = await running
    expect(restored.code).toBe(0)
    expect(restored.json).toMatchObject({ total: 12, imported: 12, failures: {} })
    await server.admin.removeFault(check)

    // No secret given: the device restores with the key the first run kept.
    const again = await cli(["restore", ...device, "--json"])
    expect(again.code).toBe(0)
    expect(again.json).toMatchObject({ total: 12, failures: {} })
  })
})
