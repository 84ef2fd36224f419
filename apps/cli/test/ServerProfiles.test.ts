// The commands on the server profiles where they differ: another device replacing the backup during `import`
// (403, or 400 with conduwuit's and tuwunel's errcodes), deleting it (Dendrite answers 500), and deleting it while
// `export` downloads it (conduwuit answers 200 with no rooms). Each ends with its own code, exit 3, the keys
// still on this device, and no file written.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { generateRoomKeys, randomBackupPublicKey, registerUser, type ServerProfileName, startFakeHomeserver } from "@matrix-backup/testkit"
import { describe, expect, it } from "vitest"
import { cli, expectFailure, stateDir } from "./support.js"

const KEYS = 600
/** The CLI uploads 250 keys per request: the second PUT is held, so one batch is on the server. */
const ON_SERVER = 250
const PUT_KEYS = { method: "PUT", path: "/room_keys/keys" } as const

/** A fake of `profile`, a user who created a backup with the CLI, and a key file of `count` keys. */
const setUp = async (profile: ServerProfileName, count: number) => {
  const server = await startFakeHomeserver({ profile })
  const user = await registerUser(server.url)
  const state = stateDir()
  const connection = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]
  const created = await cli(["create", ...connection, "--json"])
  expect(created.code).toBe(0)
  const path = join(stateDir(), "keys.json")
  writeFileSync(path, JSON.stringify(generateRoomKeys(count, { rooms: 5 })))
  return { server, user, state, connection, path, version: String(created.json?.["backupVersion"]) }
}

/** Runs `import` until its second upload is held at the server, does `change`, lets it go on, and returns the run. */
const importAcross = async (s: Awaited<ReturnType<typeof setUp>>, change: () => Promise<unknown>) => {
  const hold = await s.server.admin.injectFault({ kind: "hold", nth: 2, match: PUT_KEYS })
  const running = cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])
  // An import that ends before its second upload (it failed early) must fail the test, not leave it waiting.
  const early = running.then((run) => Promise.reject(new Error(`import ended before its second upload: ${run.stderr}`)))
  await Promise.race([s.server.admin.awaitHeld(hold), early])
  early.catch(() => undefined)
  await change()
  await s.server.admin.releaseHeld(hold)
  return running
}

const deleteVersion = (url: string, token: string, version: string) =>
  fetch(`${url}/_matrix/client/v3/room_keys/version/${version}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })

describe.each<ServerProfileName>(["synapse", "conduwuit", "tuwunel"])("import on the %s profile", (profile) => {
  it("another device replaces the backup mid-upload: BackupReplaced, exit 3, the rest waiting here", { timeout: 60_000 }, async () => {
    const s = await setUp(profile, KEYS)
    try {
      const run = await importAcross(s, () => s.server.admin.resetBackupAsOtherDevice(s.user.userId, undefined, { public_key: randomBackupPublicKey() }))
      expectFailure(run, "BackupReplaced")
      expect(run.code).toBe(3)
      expect(JSON.parse(run.stderr).error.message).toMatch(
        new RegExp(`^Backup version ${s.version} was replaced on the server by version 2; ${KEYS - ON_SERVER} keys are still waiting on this device`),
      )
      expect(await s.server.admin.roomKeys(s.user.userId, s.version)).toHaveLength(ON_SERVER)
      const puts = (await s.server.admin.requestLog()).filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys"))
      expect(puts).toHaveLength(2)
      if (profile !== "synapse") return
      const status = await cli(["status", ...s.connection, "--json"])
      expect(status.json).toMatchObject({ backup: { version: "2" }, pending: KEYS, total: KEYS, notBackedUp: KEYS, uploads: "Disabled" })
      const human = await cli(["status", ...s.connection])
      expect(human.stdout).toContain(`${KEYS} of them are not in the server's current backup, and this device does not upload to it`)
    } finally {
      await s.server.stop()
    }
  })
})

describe("import on the dendrite profile", () => {
  it("another device deletes the backup mid-upload (Dendrite answers 500): BackupDeleted, exit 3, within two PUTs", { timeout: 60_000 }, async () => {
    const s = await setUp("dendrite", KEYS)
    try {
      const run = await importAcross(s, () => deleteVersion(s.server.url, s.user.accessToken, s.version))
      expectFailure(run, "BackupDeleted")
      expect(run.code).toBe(3)
      expect(JSON.parse(run.stderr).error.message).toMatch(new RegExp(`^Backup version ${s.version} was deleted on the server; ${KEYS} keys on this device are backed up nowhere`))
      const puts = (await s.server.admin.requestLog()).filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys"))
      expect(puts.map((e) => e.status)).toEqual([200, 500, 500])
    } finally {
      await s.server.stop()
    }
  })
})

describe.each<ServerProfileName>(["synapse", "conduwuit"])("export on the %s profile", (profile) => {
  it("the backup is deleted while export downloads it: BackupDeleted, exit 3, no file", { timeout: 60_000 }, async () => {
    const s = await setUp(profile, 50)
    try {
      expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
      const hold = await s.server.admin.injectFault({ kind: "hold", times: 1, match: { method: "GET", path: "/room_keys/keys" } })
      const out = join(stateDir(), "export.json")
      const running = cli(["export", ...s.connection, "--out", out, "--format", "json", "--json"])
      await s.server.admin.awaitHeld(hold)
      await deleteVersion(s.server.url, s.user.accessToken, s.version)
      await s.server.admin.releaseHeld(hold)
      const run = await running
      expectFailure(run, "BackupDeleted")
      expect(run.code).toBe(3)
      expect(existsSync(out)).toBe(false)
    } finally {
      await s.server.stop()
    }
  })
})

describe("restore when the server's latest says nothing", () => {
  it("conduwuit: the backup deleted while restore downloads it reads as 200 with no rooms: BackupDeleted, not 0 of 0", { timeout: 60_000 }, async () => {
    const s = await setUp("conduwuit", 50)
    try {
      expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
      const hold = await s.server.admin.injectFault({ kind: "hold", times: 1, match: { method: "GET", path: "/room_keys/keys" } })
      const running = cli(["restore", ...s.connection, "--json"])
      await s.server.admin.awaitHeld(hold)
      await deleteVersion(s.server.url, s.user.accessToken, s.version)
      await s.server.admin.releaseHeld(hold)
      const run = await running
      expectFailure(run, "BackupDeleted")
      expect(run.code).toBe(3)
    } finally {
      await s.server.stop()
    }
  })

  it("dendrite: the newest version deleted hides the one this device holds the key for; restore reads it, import says why it cannot", { timeout: 60_000 }, async () => {
    const s = await setUp("dendrite", 50)
    try {
      expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
      const newer = await s.server.admin.resetBackupAsOtherDevice(s.user.userId)
      await deleteVersion(s.server.url, s.user.accessToken, newer)
      const restored = await cli(["restore", ...s.connection, "--json"])
      expect(restored.code).toBe(0)
      expect(restored.json).toMatchObject({ total: 50, failures: {} })
      const imported = await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])
      expectFailure(imported, "NoCurrentBackup")
      expect(JSON.parse(imported.stderr).error.message).toContain(`version ${s.version} (whose key this device holds) is still there`)
    } finally {
      await s.server.stop()
    }
  })
})
