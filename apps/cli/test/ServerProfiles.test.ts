// The commands on the server profiles where they differ: another device replacing the backup during `import`
// (403, or 400 with conduwuit's and tuwunel's errcodes), deleting it (Dendrite answers 500), and deleting it while
// `export` downloads it (conduwuit answers 200 with no rooms). Each ends with its own code, exit 3, the keys
// still on this device, and no file written. First, the plain flow (create, import, status, restore on a second
// device, export) on every profile, ending with the server's keys, both devices' stores and the file compared.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BackupStore } from "@matrix-backup/core"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import {
  generateRoomKeys,
  loginNewDevice,
  randomBackupPublicKey,
  registerUser,
  SERVER_PROFILES,
  type ServerProfileName,
  startFakeHomeserver,
} from "@matrix-backup/testkit"
import { Effect, Stream } from "effect"
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
  return { server, user, state, connection, path, version: String(created.json?.["backupVersion"]), recoveryKey: String(created.json?.["recoveryKey"]) }
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

/** The `room|session` of each key in a device's store (read after the CLI exited), pending ones counted for `version`. */
const localKeys = (state: string, version: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      const keys = yield* Stream.runCollect(store.exportRoomKeys())
      return { ids: [...keys].map((k) => `${k.roomId}|${k.sessionId}`), pending: yield* store.countPending(version) }
    }).pipe(Effect.provide(SqliteBackupStore.layer({ filename: join(state, "store.sqlite") })), Effect.orDie),
  )

/** What the server's `count` says after uploads: Palpo's is as of the version's creation. */
const reportedCount = (profile: ServerProfileName, count: number) => (profile === "palpo" ? 0 : count)

describe.each(SERVER_PROFILES)("the commands on the %s profile", (profile) => {
  it("create, import, status, restore on a second device, export: server, stores and file hold the same keys once", { timeout: 60_000 }, async () => {
    const COUNT = 300
    const s = await setUp(profile, COUNT)
    try {
      await s.server.admin.clearRequestLog()
      const imported = await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])
      expect(imported.json).toEqual({ imported: COUNT, alreadyPresent: 0, uploaded: COUNT, pending: 0, invalid: 0 })
      const status = await cli(["status", ...s.connection, "--json"])
      expect(status.json).toMatchObject({ backup: { version: s.version, count: reportedCount(profile, COUNT) }, pending: 0, total: COUNT, uploads: "Enabled" })

      const second = await loginNewDevice(s.server.url, s.user)
      const secondState = stateDir()
      const secondConnection = ["--homeserver", s.server.url, "--access-token", second.accessToken, "--state", secondState, "--recovery-key", s.recoveryKey]
      const restored = await cli(["restore", ...secondConnection, "--json"])
      expect(restored.json).toMatchObject({ total: COUNT, imported: COUNT, failures: {} })
      const out = join(stateDir(), "export.json")
      const exported = await cli(["export", ...secondConnection, "--format", "json", "--out", out, "--json"])
      expect(exported.json).toEqual({ file: out, exported: COUNT, failures: {} })

      // Nothing lost, nothing duplicated: the server's version, both stores and the file hold the same sessions once.
      const onServer = (await s.server.admin.roomKeys(s.user.userId, s.version)).map((k) => `${k.roomId}|${k.sessionId}`).sort()
      const given: Array<{ room_id: string; session_id: string }> = JSON.parse(readFileSync(s.path, "utf8"))
      expect(onServer).toEqual(given.map((k) => `${k.room_id}|${k.session_id}`).sort())
      expect(new Set(onServer).size).toBe(COUNT)
      const first = await localKeys(s.state, s.version)
      const other = await localKeys(secondState, s.version)
      expect(first.ids.sort()).toEqual(onServer)
      expect(other.ids.sort()).toEqual(onServer)
      expect([first.pending, other.pending]).toEqual([0, 0])
      const file: Array<{ room_id: string; session_id: string }> = JSON.parse(readFileSync(out, "utf8"))
      expect(file.map((k) => `${k.room_id}|${k.session_id}`).sort()).toEqual(onServer)
      // No request storm: two uploads of 250 and 50 keys, and one download each for restore and export.
      const log = await s.server.admin.requestLog()
      const keys = (method: string) => log.filter((e) => e.method === method && e.path.startsWith("/_matrix/client/v3/room_keys/keys")).map((e) => e.status)
      expect(keys("PUT")).toEqual([200, 200])
      expect(keys("GET")).toEqual([200, 200])
      // Four commands ran (import, status, restore, export): a few version checks each, about 20 requests each in all.
      expect(log.filter((e) => e.method === "GET" && e.path.startsWith("/_matrix/client/v3/room_keys/version")).length).toBeLessThanOrEqual(16)
      expect(log.length).toBeLessThanOrEqual(100)
    } finally {
      await s.server.stop()
    }
  })
})

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
