// Safe to point at a real account: options belong to their command in any order, and nothing is replaced or deleted
// without --force (these runs have no terminal, so nobody can say yes). Each run is checked on the server.
import { generateRoomKeys, registerUser, type RunningFakeHomeserver, startFakeHomeserver, type TestUser } from "@matrix-backup/testkit"
import { RecoveryKey } from "@matrix-backup/core"
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cli, expectFailure, stateDir } from "./support.js"

let server: RunningFakeHomeserver
beforeEach(async () => {
  server = await startFakeHomeserver()
})
afterEach(async () => {
  await server.stop()
})

const live = async (user: TestUser) => (await server.admin.backupVersions(user.userId)).filter((v) => !v.deleted).map((v) => v.version)

/** An account with Secret Storage and backup version 1, made by this tool. */
const account = async () => {
  const user = await registerUser(server.url)
  const state = stateDir()
  const connection = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]
  const created = await cli(["create", ...connection, "--json"])
  expect(created.json).toMatchObject({ backupVersion: "1", secretStorage: "created", replacedBackup: null })
  return { user, state, connection, recoveryKey: String(created.json?.["recoveryKey"]) }
}

describe("options belong to their command, in any order", () => {
  it("delete --version V works first, last, between connection flags and as --version=V", { timeout: 120_000 }, async () => {
    const { user, connection } = await account()
    const orders = [
      (v: string) => ["delete", "--version", v, "--force", ...connection],
      (v: string) => ["delete", ...connection, "--force", "--version", v],
      (v: string) => ["delete", "--force", connection[0] ?? "", connection[1] ?? "", `--version=${v}`, ...connection.slice(2), "--json"],
    ]
    let version = "1"
    for (const order of orders) {
      const run = await cli(order(version))
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).not.toMatch(/^\d+\.\d+\.\d+$/m)
      expect(await live(user)).toEqual([])
      const next = await cli(["create", ...connection, "--force", "--json"])
      version = String(next.json?.["backupVersion"])
    }
    expect(version).toBe("4")
  })

  it("a program-wide word after a command is that command's option or an error, never the program's", async () => {
    const { user, connection } = await account()
    const run = await cli(["status", "--version", ...connection, "--json"])
    expectFailure(run, "Usage")
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/unknown option --version; see `matrix-backup status --help`/)
    const missing = await cli(["delete", ...connection, "--version", "--force"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^matrix-backup: --version needs a value/)
    expect(await live(user)).toEqual(["1"])
    const help = await cli(["delete", ...connection, "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^matrix-backup delete: /)
    const version = await cli(["--version"])
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })
})

describe("nothing is replaced or deleted without --force", () => {
  it("delete refuses, saying what it would delete; the version stays", async () => {
    const { user, connection } = await account()
    const run = await cli(["delete", "--version", "1", ...connection, "--json"])
    expectFailure(run, "NeedsForce")
    expect(run.stderr).toMatch(/would delete key backup version 1 and its 0 keys.*--force/)
    const human = await cli(["delete", "--version", "1", ...connection])
    expect(human.stderr).toMatch(/^matrix-backup: This would delete key backup version 1/)
    expect(await live(user)).toEqual(["1"])
  })

  it("create over an existing setup refuses; nothing on the server changes", async () => {
    const { user, connection } = await account()
    const defaultKey = await server.admin.accountData(user.userId, "m.secret_storage.default_key")
    const run = await cli(["create", ...connection, "--json"])
    expectFailure(run, "NeedsForce")
    expect(await live(user)).toEqual(["1"])
    expect(await server.admin.accountData(user.userId, "m.secret_storage.default_key")).toEqual(defaultKey)
  })

  it("create keeps Secret Storage given its recovery key: same key, new backup, old recovery key restores it", { timeout: 120_000 }, async () => {
    const { user, connection, recoveryKey } = await account()
    const defaultKey = await server.admin.accountData(user.userId, "m.secret_storage.default_key")
    const other = RecoveryKey.encodeRecoveryKey(randomBytes(32))
    expectFailure(await cli(["create", ...connection, "--recovery-key", other, "--force", "--json"]), "WrongRecoveryKey", [other])
    expect(await live(user)).toEqual(["1"])
    const kept = await cli(["create", ...connection, "--recovery-key", recoveryKey, "--force", "--json"])
    expect(kept.json).toEqual({ recoveryKey: null, backupVersion: "2", secretStorage: "kept", replacedBackup: "1" })
    expect(await server.admin.accountData(user.userId, "m.secret_storage.default_key")).toEqual(defaultKey)
    const file = join(stateDir(), "keys.json")
    writeFileSync(file, JSON.stringify(generateRoomKeys(12)))
    const imported = await cli(["import", ...connection, "--in", file, "--json"])
    expect(imported.json).toMatchObject({ imported: 12, uploaded: 12 })
    const restored = await cli(["restore", "--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir(), "--recovery-key", recoveryKey, "--json"])
    expect(restored.json).toMatchObject({ total: 12, imported: 12 })
  })

  it("export does not overwrite a file without --force", async () => {
    const { connection } = await account()
    const out = join(stateDir(), "existing.json")
    writeFileSync(out, "precious")
    const run = await cli(["export", ...connection, "--out", out, "--format", "json", "--json"])
    expectFailure(run, "NeedsForce")
    expect(run.stderr).toMatch(/already exists; choose another --out, or add --force/)
    expect(readFileSync(out, "utf8")).toBe("precious")
    const forced = await cli(["export", ...connection, "--out", out, "--format", "json", "--force", "--json"])
    expect(forced.json).toEqual({ file: out, exported: 0, failures: {} })
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual([])
  })
})
