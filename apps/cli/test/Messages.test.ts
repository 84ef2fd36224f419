// What people read: every failure says what happened in plain words and what to do next, never an internal name;
// status explains its verdicts; import says what it did with keys that were already there or not keys at all.
import { RecoveryKey } from "@matrix-backup/core"
import { generateRoomKeys, loginNewDevice, registerUser } from "@matrix-backup/testkit"
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { cli, expectFailure, expectHumanFailure, expectNoPlumbing, stateDir, sharedFakeHomeserver } from "./support.js"

const server = sharedFakeHomeserver()

const as = (user: { accessToken: string }, state = stateDir()) => ["--homeserver", server().url, "--access-token", user.accessToken, "--state", state]

const keyFile = (entries: ReadonlyArray<unknown>) => {
  const path = join(stateDir(), "keys.json")
  writeFileSync(path, JSON.stringify(entries))
  return path
}

describe("failures in plain words, with the next step", () => {
  it("recovery keys that are not keys say what is wrong with them", async () => {
    const user = await registerUser(server().url)
    await cli(["create", ...as(user), "--json"])
    const good = RecoveryKey.encodeRecoveryKey(randomBytes(32))
    const last = good.at(-1) === "A" ? "B" : "A"
    const cases: Array<readonly [string, RegExp]> = [
      [`${good.slice(0, -1)}${last}`, /a character is mistyped/],
      [good.slice(0, -5), /the key is too short/],
      [`${good}${good.slice(5, 10)}`, /the key is too long/],
      [`${good.slice(0, -1)}0`, /a character recovery keys never use/],
    ]
    for (const [typed, words] of cases) {
      const run = await cli(["restore", ...as(user, stateDir()), "--recovery-key", typed])
      expectHumanFailure(run, /^matrix-backup: That is not a valid recovery key: /)
      expect(run.stderr).toMatch(words)
      expect(run.stderr).not.toContain(typed)
    }
  })

  it("an unreachable homeserver is named; a missing homeserver or token names the flag and the variable", async () => {
    const user = await registerUser(server().url)
    expectHumanFailure(
      await cli(["status", "--homeserver", "http://127.0.0.1:9", "--access-token", user.accessToken, "--state", stateDir()]),
      /Could not reach the homeserver at http:\/\/127\.0\.0\.1:9 \(connection failed\); check the URL and your network/,
    )
    expectHumanFailure(await cli(["status", "--homeserver", server().url, "--state", stateDir()]), /No access token: pass --access-token or set MATRIX_ACCESS_TOKEN/)
    expectHumanFailure(await cli(["status", "--access-token", user.accessToken]), /No homeserver: pass --homeserver URL or set MATRIX_HOMESERVER/)
    const usage = await cli(["status", "--bogus"])
    expect(usage.code).toBe(2)
    expectHumanFailure(usage, /unknown option --bogus; see `matrix-backup status --help`/)
  })

  it("import before create says to run create; a missing file says why", async () => {
    const user = await registerUser(server().url)
    const run = await cli(["import", ...as(user), "--in", keyFile(generateRoomKeys(3)), "--json"])
    expectFailure(run, "NoBackup")
    expect(run.stderr).toMatch(/run `matrix-backup create` first/)
    const missing = join(stateDir(), "nope.json")
    expectHumanFailure(await cli(["import", ...as(user), "--in", missing]), new RegExp(`Cannot read ${missing}: there is no such file`))
  })

  it("an import with no valid key fails; a re-import says the keys were already there and shows no empty progress", { timeout: 60_000 }, async () => {
    const user = await registerUser(server().url)
    const state = stateDir()
    await cli(["create", ...as(user, state), "--json"])
    const junk = await cli(["import", ...as(user, state), "--in", keyFile([{ not: "a key" }, 7]), "--json"])
    expectFailure(junk, "NoValidKeys")
    expect(junk.stderr).toMatch(/holds no valid room key \(2 entries are not exported Megolm keys\); nothing was imported/)
    const file = keyFile(generateRoomKeys(20))
    const first = await cli(["import", ...as(user, state), "--in", file])
    expect(first.stdout).toMatch(/^Imported 20 new keys\.\nBackup version 1: 20 keys uploaded, nothing waiting\.\n$/)
    expect(first.stderr.match(/^upload: 20\/20 keys \(100%\)/gm)).toHaveLength(1)
    const again = await cli(["import", ...as(user, state), "--in", file])
    expect(again.stdout).toMatch(/^Imported 0 new keys; 20 were already on this device\./)
    expect(again.stderr).toBe("")
  })
})

describe("status explains its verdicts", () => {
  it("no Secret Storage: says to run create", async () => {
    const user = await registerUser(server().url)
    const run = await cli(["status", ...as(user)])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Recovery: not set up: this account has no Secret Storage\. Run `matrix-backup create`/m)
    expectNoPlumbing(run)
  })

  it("after a restore on another device: not signed by it, but it holds the key, so it uploads", { timeout: 60_000 }, async () => {
    const user = await registerUser(server().url)
    const created = await cli(["create", ...as(user), "--json"])
    const device = await loginNewDevice(server().url, user)
    const state = stateDir()
    const before = await cli(["status", ...as(device, state)])
    expect(before.stdout).toMatch(/^Trust: not trusted yet .*uploads nothing to it until you run `matrix-backup restore`/m)
    await cli(["restore", ...as(device, state), "--recovery-key", String(created.json?.["recoveryKey"])])
    const after = await cli(["status", ...as(device, state)])
    expect(after.stdout).toMatch(/^Trust: not signed by a key this device trusts .*but this device holds its decryption key .*so it backs up new keys to it\.$/m)
    expect(after.stdout).toMatch(/^This device: 0 keys stored, 0 waiting for upload \(uploads on\)\.$/m)
    expect(after.stdout).toMatch(/^Recovery: ready/m)
    expectNoPlumbing(after)
  })
})

describe("--json output is for pipes", () => {
  it("a pipe reads exactly one JSON document from stdout", { timeout: 60_000 }, async () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bundle", "matrix-backup.js")
    const parse = `${JSON.stringify(process.execPath)} -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Object.keys(JSON.parse(s)).join(",")))'`
    const piped = await new Promise<string>((resolve, reject) =>
      execFile("bash", ["-c", `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} demo --keys 300 --json | ${parse}`], (error, stdout) =>
        error === null ? resolve(stdout) : reject(error),
      ),
    )
    expect(piped).toBe("keys,backedUp,restored,verified,failures,seconds,keysPerSecond\n")
  })
})
