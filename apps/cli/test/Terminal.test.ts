// On a person's terminal: secrets asked for without echo, confirmations before deleting, bars and help that fit the
// terminal's width. Runs through a real pseudo-terminal.
import { generateRoomKeys, loginNewDevice, registerUser } from "@matrix-backup/testkit"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, stateDir, sharedFakeHomeserver } from "./support.js"
import { inTerminal, screenLines } from "./terminal.js"

const server = sharedFakeHomeserver()

const backedUp = async (count: number) => {
  const user = await registerUser(server().url)
  const state = stateDir()
  const connection = ["--homeserver", server().url, "--access-token", user.accessToken, "--state", state]
  const created = await cli(["create", ...connection, "--json"])
  const file = join(stateDir(), "keys.json")
  writeFileSync(file, JSON.stringify(generateRoomKeys(count)))
  await cli(["import", ...connection, "--in", file, "--json"])
  return { user, connection, recoveryKey: String(created.json?.["recoveryKey"]) }
}

const live = async (userId: string) => (await server().admin.backupVersions(userId)).filter((v) => !v.deleted).map((v) => v.version)

describe("on a terminal", () => {
  it("restore asks for the recovery key and does not echo it; then the device restores without asking", { timeout: 120_000 }, async () => {
    const { user, recoveryKey } = await backedUp(40)
    const device = await loginNewDevice(server().url, user)
    const connection = ["--homeserver", server().url, "--access-token", device.accessToken, "--state", stateDir()]
    const run = await inTerminal(["restore", ...connection], { answers: [{ when: /Recovery key or Secret Storage passphrase \(hidden\): $/, type: recoveryKey }] })
    expect(run.code, run.screen).toBe(0)
    expect(run.screen).toMatch(/Restored 40 of 40 keys/)
    expect(run.screen).not.toContain(recoveryKey)
    expect(run.screen).not.toContain(recoveryKey.replace(/ /g, ""))
    expect(run.screen).not.toContain(recoveryKey.slice(0, 9))
    const again = await inTerminal(["restore", ...connection])
    expect(again.code, again.screen).toBe(0)
    expect(again.screen).not.toMatch(/hidden/)
    expect(again.screen).toMatch(/of 40 keys/)
  })

  it("a missing access token is asked for, hidden", { timeout: 60_000 }, async () => {
    const user = await registerUser(server().url)
    const run = await inTerminal(["status", "--homeserver", server().url, "--state", stateDir()], {
      answers: [{ when: /Access token for .* \(hidden\): $/, type: user.accessToken }],
    })
    expect(run.code, run.screen).toBe(0)
    expect(run.screen).toMatch(/Backup: none on the homeserver/)
    expect(run.screen).not.toContain(user.accessToken)
  })

  it("delete asks first: no keeps the version, yes deletes it", { timeout: 60_000 }, async () => {
    const { user, connection } = await backedUp(5)
    const no = await inTerminal(["delete", "--version", "1", ...connection], { answers: [{ when: /and the 5 keys in it from the homeserver\? \[y\/N\] /, type: "n" }] })
    expect(no.code).toBe(1)
    expect(no.screen).toMatch(/Cancelled; nothing was changed/)
    expect(await live(user.userId)).toEqual(["1"])
    const yes = await inTerminal(["delete", "--version", "1", ...connection], { answers: [{ when: /\[y\/N\] /, type: "y" }] })
    expect(yes.code, yes.screen).toBe(0)
    expect(await live(user.userId)).toEqual([])
  })

  it("create on an account with Secret Storage offers to keep it with its recovery key", { timeout: 60_000 }, async () => {
    const user = await registerUser(server().url)
    const connection = ["--homeserver", server().url, "--access-token", user.accessToken, "--state", stateDir()]
    const first = await cli(["create", ...connection, "--json"])
    const recoveryKey = String(first.json?.["recoveryKey"])
    await cli(["delete", "--version", "1", "--force", ...connection])
    const run = await inTerminal(["create", ...connection], { answers: [{ when: /Type its recovery key or passphrase to keep it, or press Enter to replace it \(hidden\): $/, type: recoveryKey }] })
    expect(run.code, run.screen).toBe(0)
    expect(run.screen).toMatch(/Created key backup version 2; its key is in your existing Secret Storage/)
    expect(run.screen).not.toContain(recoveryKey)
  })

  it("progress bars fit a 50-column terminal; with --json stdout still holds only the JSON", { timeout: 120_000 }, async () => {
    const dir = stateDir()
    const run = await inTerminal(["demo", "--keys", "3000", "--json"], { columns: 50, redirect: `> ${join(dir, "out.json")}` })
    expect(run.code, run.screen).toBe(0)
    const lines = screenLines(run.screen)
    expect(lines.some((l) => /^restore \[█*░*\] +\d+% /.test(l))).toBe(true)
    // Every redraw of a bar fits on one line, so the terminal never wraps it into a new line.
    const bars = lines.filter((l) => l.includes("keys/s"))
    expect(bars.length).toBeGreaterThan(2)
    for (const line of bars) expect(line.length, line).toBeLessThanOrEqual(49)
    expect(JSON.parse(readFileSync(join(dir, "out.json"), "utf8"))).toMatchObject({ keys: 3000, verified: 3000 })
  })

  it("help fits the terminal's width and has no colour codes, on a terminal or piped", async () => {
    const ESC = String.fromCharCode(27)
    for (const args of [["--help"], ["export", "--help"]]) {
      const piped = await cli(args, { NO_COLOR: "1" })
      expect(piped.stdout).toMatch(/^matrix-backup/)
      expect(piped.stdout).not.toContain(ESC)
      expect(piped.stdout).not.toMatch(/A true or false value|--wizard|--completions|--log-level/)
      const run = await inTerminal(args, { columns: 50 })
      expect(run.code).toBe(0)
      expect(run.screen).not.toContain(ESC)
      for (const line of screenLines(run.screen)) expect(line.length, line).toBeLessThanOrEqual(50)
    }
  })
})
