// Failures: each a clear one-line error, a JSON error object with --json, a non-zero exit, and no secret printed.
import { generateRoomKeys, mistypedRecoveryKey, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { RecoveryKey } from "@matrix-backup/core"
import { randomBytes } from "node:crypto"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cli, expectFailure, stateDir } from "./support.js"

let server: RunningFakeHomeserver
let user: Awaited<ReturnType<typeof registerUser>>
let recoveryKey: string
let state: string
const passphrase = `a passphrase ${randomBytes(4).toString("hex")}`

beforeAll(async () => {
  server = await startFakeHomeserver()
  user = await registerUser(server.url)
  state = stateDir()
  const created = await cli(["create", "--homeserver", server.url, "--access-token", user.accessToken, "--state", state, "--passphrase", passphrase, "--json"])
  recoveryKey = String(created.json?.["recoveryKey"])
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const connection = () => ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]

describe("errors", () => {
  it("a wrong (well-formed) recovery key", async () => {
    const wrong = RecoveryKey.encodeRecoveryKey(randomBytes(32))
    const run = await cli(["restore", ...connection(), "--recovery-key", wrong, "--json"])
    expectFailure(run, "WrongRecoveryKey", [wrong, recoveryKey, user.accessToken])
  })

  it("a malformed recovery key fails before any request, without echoing it", async () => {
    const typo = mistypedRecoveryKey(recoveryKey)
    const run = await cli(["restore", ...connection(), "--recovery-key", typo, "--json"])
    expectFailure(run, "BadRecoveryKey", [typo, recoveryKey, user.accessToken])
  })

  it("a wrong passphrase", async () => {
    const wrong = "not the passphrase"
    const run = await cli(["restore", ...connection(), "--passphrase", wrong, "--json"])
    expectFailure(run, "WrongPassphrase", [wrong, passphrase, user.accessToken])
  })

  it("an unreachable homeserver", async () => {
    const run = await cli(["status", "--homeserver", "http://127.0.0.1:9", "--access-token", user.accessToken, "--state", stateDir(), "--json"])
    expectFailure(run, "Unreachable", [user.accessToken])
  })

  it("an unknown or expired access token", async () => {
    const token = `syt_${randomBytes(16).toString("hex")}`
    const run = await cli(["status", "--homeserver", server.url, "--access-token", token, "--state", stateDir(), "--json"])
    expectFailure(run, "Unauthorized", [token])
    const human = await cli(["restore", "--homeserver", server.url, "--access-token", token, "--recovery-key", recoveryKey])
    expect(human.code).not.toBe(0)
    expect(human.stderr).toMatch(/^matrix-backup: The homeserver rejected the access token \(M_UNKNOWN_TOKEN\)/)
    expect(human.stdout).toBe("")
    expect(human.stderr + human.stdout).not.toContain(token)
    expect(human.stderr + human.stdout).not.toContain(recoveryKey)
  })

  it("neither secret on a device without the key, or both secrets", async () => {
    const fresh = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir()]
    const neither = await cli(["restore", ...fresh, "--json"])
    expectFailure(neither, "Usage")
    expect(neither.stderr).toMatch(/--recovery-key \(or MATRIX_RECOVERY_KEY\)/)
    const out = join(stateDir(), "x.json")
    expectFailure(await cli(["export", ...connection(), "--recovery-key", recoveryKey, "--passphrase", passphrase, "--format", "json", "--out", out, "--json"]), "Usage", [recoveryKey, passphrase])
  })

  it("a state directory that belongs to another device", async () => {
    const other = await registerUser(server.url)
    const run = await cli(["status", "--homeserver", server.url, "--access-token", other.accessToken, "--state", state, "--json"])
    expectFailure(run, "State", [other.accessToken])
  })

  it("a key file with the wrong export passphrase, and a file that is not a key file", { timeout: 60_000 }, async () => {
    const out = join(stateDir(), "keys.txt")
    const exported = await cli(["export", ...connection(), "--recovery-key", recoveryKey, "--out", out, "--export-passphrase", "file secret", "--json"])
    expect(exported.code).toBe(0)
    const wrong = await cli(["import", ...connection(), "--in", out, "--export-passphrase", "wrong secret", "--json"])
    expectFailure(wrong, "WrongPassphrase", ["wrong secret", "file secret"])
    const junk = join(stateDir(), "junk.json")
    writeFileSync(junk, JSON.stringify({ not: "keys", session_key: generateRoomKeys(1)[0]?.session_key }))
    expectFailure(await cli(["import", ...connection(), "--in", junk, "--format", "json", "--json"]), "File")
  })

  it("a missing required option is a usage error", async () => {
    const run = await cli(["delete", ...connection(), "--json"])
    expectFailure(run, "Usage", [user.accessToken])
    expect(run.code).toBe(2)
    expect(run.json?.["error"]).toMatchObject({ message: "--version V is required; see `matrix-backup delete --help`" })
  })
})
