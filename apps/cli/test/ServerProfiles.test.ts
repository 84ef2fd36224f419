// The commands on every server profile, through the built command. First the plain flow (create, import, status,
// restore on a second device, export), ending with the server's keys, both devices' stores and the file compared.
// Then another device changing the backup while a command uses it, placed with the fake's hold fault: replacing it
// (a new version beside it) or deleting it between two upload batches of `import`, and resetting it (Element's
// delete and new version) or deleting it just before `restore` and `export` download it, and before the last room
// of `restore --room` and `export --room`. Each ends with its own code and exit 3 within 30 s of the change, its
// keys still on this device (and the rooms read before, for `restore --room`, whose progress lines are checked too),
// no file written, and `status` saying the keys are backed up nowhere; then the server's keys and the store are compared and request counts
// bounded. One server per profile, one user per case (the cases run in turn, as faults and the request log are
// server-wide). The engine's fault suite covers a reset mid-upload on every profile. Last, two cases of one profile:
// conduwuit reading back keys an upload raced into a deleted version, and Dendrite's deleted latest hiding the
// version this device holds the key for.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { loginNewDevice, type RequestLogEntry, SERVER_PROFILES, type ServerProfileName } from "@matrix-backup/testkit"
import { beforeEach, describe, expect, it } from "vitest"
import { type Account, CHANGES, type Change, expectNothingLost, localKeys, setUp } from "./otherDevice.js"
import { cli, type CliRun, expectFailure, sharedFakeHomeserver, stateDir } from "./support.js"

/** The CLI uploads 250 keys per request: the second PUT (of 50) is held, so one batch is on the server. */
const KEYS = 300
const ON_SERVER = 250
const ROOM_KEYS = "/_matrix/client/v3/room_keys/keys"
const VERSIONS = "/_matrix/client/v3/room_keys/version"

/** What the server's `count` says after uploads: Palpo's is as of the version's creation. */
const reportedCount = (profile: ServerProfileName, count: number) => (profile === "palpo" ? 0 : count)

/** Statuses of the requests to `path` (a prefix) with `method`. */
const statuses = (log: ReadonlyArray<RequestLogEntry>, method: string, path: string) => log.filter((e) => e.method === method && e.path.startsWith(path)).map((e) => e.status)

/** A hold fault and how many requests it must hold before the change. */
type Hold = readonly [id: string, count: number]

/** Waits until every hold holds its requests, failing (not hanging) if one of `runs` ends first. */
const held = async (account: Account, holds: ReadonlyArray<Hold>, runs: ReadonlyArray<Promise<CliRun>>) => {
  const early = runs.map((run) => run.then((r) => Promise.reject(new Error(`a command ended before its request was held: ${r.stderr}`))))
  await Promise.race([Promise.all(holds.map(([id, count]) => account.server.admin.awaitHeld(id, count))), ...early])
  for (const e of early) e.catch(() => undefined)
}

/**
 * Once `holds` hold a request of each of `runs`, another device makes `change` (one of `CHANGES`, or its own);
 * then the requests go on. Returns the new version (if any) and each run with how long after the change it ended.
 */
const across = async (account: Account, holds: ReadonlyArray<Hold>, change: Change | (() => Promise<unknown>), runs: ReadonlyArray<Promise<CliRun>>) => {
  await held(account, holds, runs)
  const made = typeof change === "function" ? await change() : await CHANGES[change](account)
  const newVersion = typeof made === "string" ? made : undefined
  const changed = performance.now()
  for (const [id] of holds) await account.server.admin.releaseHeld(id)
  const ended = await Promise.all(runs.map((run) => run.then((r) => ({ ...r, after: performance.now() - changed }))))
  return { newVersion, ended }
}

/**
 * A command that another device's change ended: a clean `--json` failure with `code`, exit 3 (the backup changed),
 * within 30 s of the change, its message matching `message`.
 */
const expectStopped = (run: (CliRun & { readonly after: number }) | undefined, code: string, message: RegExp) => {
  if (run === undefined) throw new Error("the command did not run")
  expectFailure(run, code)
  expect(run.code).toBe(3)
  expect(run.after).toBeLessThan(30_000)
  expect(JSON.parse(run.stderr).error.message).toMatch(message)
}

/** How `import` ends when the backup changes between its batches. */
const importFailure = (change: Change, account: Account, newVersion: string | undefined) =>
  change === "deleted"
    ? { code: "BackupDeleted", message: `^Backup version ${account.version} was deleted on the server; ${KEYS} keys on this device are backed up nowhere` }
    : {
        code: "BackupReplaced",
        // The whole truth, as status counts it: the keys on the old version are not in the current backup either.
        message:
          `^Backup version ${account.version} was replaced on the server by version ${newVersion}; ${ON_SERVER} keys were backed up to version ${account.version} only ` +
          `and ${KEYS - ON_SERVER} were not uploaded; ${KEYS} keys on this device are not in the current backup\\. Run`,
      }

describe.each(SERVER_PROFILES)("on the %s profile", (profile) => {
  const server = sharedFakeHomeserver({ profile })
  beforeEach(async () => {
    await server().admin.clearFaults()
    await server().admin.clearRequestLog()
  })

  it("create, import, status, restore on a second device, export: server, stores and file hold the same keys once", { timeout: 60_000 }, async () => {
    const COUNT = 300
    const s = await setUp(server(), COUNT)
    await server().admin.clearRequestLog()
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
    const { local, server: onServer } = await expectNothingLost(s)
    expect(onServer.get(s.version)).toEqual(s.ids)
    expect(local.pending).toBe(0)
    const other = await localKeys(secondState, s.version)
    expect(other).toEqual({ ids: s.ids, pending: 0 })
    const file: Array<{ room_id: string; session_id: string }> = JSON.parse(readFileSync(out, "utf8"))
    expect(file.map((k) => `${k.room_id}|${k.session_id}`).sort()).toEqual(s.ids)
    // No request storm: two uploads of 250 and 50 keys, and one download each for restore and export.
    const log = await server().admin.requestLog()
    expect(statuses(log, "PUT", ROOM_KEYS)).toEqual([200, 200])
    expect(statuses(log, "GET", ROOM_KEYS)).toEqual([200, 200])
    // Four commands ran (import, status, restore, export): a few version checks each, about 10 requests each in all.
    expect(statuses(log, "GET", VERSIONS).length).toBeLessThanOrEqual(16)
    expect(log.length).toBeLessThanOrEqual(60)
    // Each reads Secret Storage once (two first reads may overlap), and the backup preference at every engine check.
    const accountData = (type: string) => log.filter((e) => e.method === "GET" && e.path.includes(`/account_data/${type}`)).length
    expect(accountData("m.secret_storage.default_key")).toBeLessThanOrEqual(4)
    expect(accountData("m.secret_storage.key.")).toBeLessThanOrEqual(8)
    expect(accountData("m.megolm_backup.v1")).toBeLessThanOrEqual(4)
    expect(accountData("m.key_backup")).toBeGreaterThanOrEqual(3)
  })

  it.each<Change>(["replaced", "deleted"])(
    "import, the backup %s by another device between two upload batches: exit 3 within 30 s, the rest waiting here, status says so",
    { timeout: 60_000 },
    async (change) => {
      const s = await setUp(server(), KEYS)
      await server().admin.clearRequestLog()
      const hold = await server().admin.injectFault({ kind: "hold", nth: 2, match: { method: "PUT", path: "/room_keys/keys" } })
      const importing = cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])
      const { newVersion, ended } = await across(s, [[hold, 1]], change, [importing])
      const expected = importFailure(change, s, newVersion)
      expectStopped(ended[0], expected.code, new RegExp(expected.message))
      // No storm: the accepted batch, the held one, at most one more; a few version checks.
      const log = await server().admin.requestLog()
      expect(statuses(log, "PUT", ROOM_KEYS)[0]).toBe(200)
      expect(statuses(log, "PUT", ROOM_KEYS).length).toBeLessThanOrEqual(3)
      expect(statuses(log, "GET", VERSIONS).length).toBeLessThanOrEqual(8)
      expect(log.length).toBeLessThanOrEqual(30)

      const { server: onServer } = await expectNothingLost(s)
      if (change === "replaced") expect(onServer.get(s.version)).toHaveLength(ON_SERVER)
      if (newVersion !== undefined) expect(onServer.get(newVersion)).toEqual([])
      // What this device says next: status, and restore without a secret (its key is of the old version).
      const [status, human, restore] = await Promise.all([
        cli(["status", ...s.connection, "--json"]),
        cli(["status", ...s.connection]),
        cli(["restore", ...s.connection, "--json"]),
      ])
      expect(status.json).toMatchObject({ backup: newVersion === undefined ? null : { version: newVersion }, total: KEYS, notBackedUp: KEYS })
      expect(human.stdout).toMatch(
        newVersion === undefined
          ? `This device: ${KEYS} keys stored, and there is no backup: they are backed up nowhere.`
          : `This device: ${KEYS} keys stored; ${KEYS} of them are not in the server's current backup, and this device does not upload to it, so nothing will back them up.`,
      )
      if (newVersion === undefined) expectFailure(restore, "NoBackup")
      else {
        expectFailure(restore, "Usage")
        expect(JSON.parse(restore.stderr).error.message).toBe(
          `This device holds the key of backup version ${s.version}, but the server's current backup is version ${newVersion} (another device replaced it): ` +
            "give --recovery-key (or MATRIX_RECOVERY_KEY) or --passphrase",
        )
      }
    },
  )

  it.each<Change>(["reset", "deleted"])(
    "restore and export, of the whole backup and of four rooms, the backup %s by another device just before they download it (before the last room): exit 3 within 30 s, no file, only the rooms read kept",
    { timeout: 60_000 },
    async (change) => {
      const FEW = 50
      const s = await setUp(server(), FEW)
      expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
      const onDevice = async () => {
        const device = await loginNewDevice(s.server.url, s.user)
        const state = stateDir()
        return { state, connection: ["--homeserver", s.server.url, "--access-token", device.accessToken, "--state", state, "--recovery-key", s.recoveryKey] }
      }
      const [restorer, exporter, roomRestorer, roomExporter] = await Promise.all([onDevice(), onDevice(), onDevice(), onDevice()])
      // Four of the five rooms, most of the backup: the last one's download is held, the others are read before.
      const rooms = [...new Set(s.ids.map((id) => id.split("|")[0] ?? ""))].slice(0, 4)
      const roomFlags = rooms.flatMap((room) => ["--room", room])
      const inRooms = (chosen: ReadonlyArray<string>) => s.ids.filter((id) => chosen.includes(id.split("|")[0] ?? ""))
      await server().admin.clearRequestLog()
      const whole = await server().admin.injectFault({ kind: "hold", times: 2, match: { method: "GET", path: /\/room_keys\/keys$/ } })
      const lastRoom = await server().admin.injectFault({ kind: "hold", times: 2, match: { method: "GET", path: `/room_keys/keys/${encodeURIComponent(rooms[3] ?? "")}` } })
      const out = join(stateDir(), "export.json")
      const roomsOut = join(stateDir(), "rooms.json")
      const restoring = cli(["restore", ...restorer.connection, "--json"])
      const exporting = cli(["export", ...exporter.connection, "--out", out, "--format", "json", "--json"])
      // In words, not --json: its progress lines are checked too.
      const restoringRooms = cli(["restore", ...roomRestorer.connection, ...roomFlags])
      const exportingRooms = cli(["export", ...roomExporter.connection, ...roomFlags, "--out", roomsOut, "--format", "json", "--json"])
      const { ended } = await across(s, [[whole, 2], [lastRoom, 2]], change, [restoring, exporting, restoringRooms, exportingRooms])
      const [restored, exported, restoredRooms, exportedRooms] = ended
      const restoredIds = (await localKeys(restorer.state, s.version)).ids
      const roomIds = (await localKeys(roomRestorer.state, s.version)).ids
      const gone = `^Backup version ${s.version} was deleted on the server`
      expectStopped(restored, "BackupDeleted", new RegExp(`${gone} before its keys could be read; nothing was restored`))
      expectStopped(exported, "BackupDeleted", new RegExp(`${gone} before its keys could be read; no file was written`))
      expectStopped(exportedRooms, "BackupDeleted", new RegExp(`${gone} before its keys could be read; no file was written`))
      expect([existsSync(out), existsSync(roomsOut)]).toEqual([false, false])
      expect(restoredIds).toEqual([])
      // The first rooms' keys were stored before the delete: they stay, and the message says so.
      const kept = inRooms(rooms.slice(0, 3))
      expect(restoredRooms).toMatchObject({ code: 3, stdout: "" })
      expect(restoredRooms?.after).toBeLessThan(30_000)
      const lines = restoredRooms?.stderr.trimEnd().split("\n") ?? []
      expect(lines.at(-1)).toMatch(new RegExp(`^matrix-backup: ${gone.slice(1)} while its keys were read; the ${kept.length} keys read before that are on this device`))
      // The chosen rooms' total is unknown at first (not "0/0 keys (100%)"), and the line shows where it stopped
      // before the failure, also without a terminal.
      const progress = lines.filter((line) => line.startsWith("restore: "))
      expect(progress[0]).toMatch(/^restore: 0 keys so far, /)
      expect(lines.at(-2)).toMatch(new RegExp(`^restore: ${kept.length} keys so far, `))
      expect(roomIds).toEqual(kept)
      // No storm: the held downloads, at most one more each; about 15 requests per command (Secret Storage read once).
      const log = await server().admin.requestLog()
      expect(statuses(log, "GET", ROOM_KEYS).length).toBeLessThanOrEqual(14)
      expect(statuses(log, "GET", VERSIONS).length).toBeLessThanOrEqual(24)
      expect(log.length).toBeLessThanOrEqual(80)
      await expectNothingLost(s)
    },
  )
})

describe("restore, import and status when Dendrite's latest is a deleted version", () => {
  const server = sharedFakeHomeserver({ profile: "dendrite" })

  it("the newest version deleted hides the one this device holds the key for; restore reads it, import and status say why it takes no uploads", { timeout: 60_000 }, async () => {
    const s = await setUp(server(), 50)
    expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
    await CHANGES.deleted({ ...s, version: await server().admin.resetBackupAsOtherDevice(s.user.userId) })
    const restored = await cli(["restore", ...s.connection, "--json"])
    expect(restored.code).toBe(0)
    expect(restored.json).toMatchObject({ total: 50, failures: {} })
    const [imported, status] = await Promise.all([cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"]), cli(["status", ...s.connection])])
    expectFailure(imported, "NoCurrentBackup")
    expect(JSON.parse(imported.stderr).error.message).toContain(`version ${s.version} (whose key this device holds) is still there`)
    // Its keys are in that version, but nothing new will be: status must not say this device backs up to it.
    expect(status.stdout).toContain(`Backup: version ${s.version} on the homeserver, 50 keys`)
    expect(status.stdout).toContain(
      "Trust: trusted, signed by this device, but the homeserver reports no current backup (its newest version was deleted) and accepts no uploads to this one, so new keys are backed up nowhere.",
    )
    expect(status.stdout).not.toContain("backs up new keys to it")
    // Recovery agrees with the rest: there is a backup, not the current one (not "there is no key backup").
    expect(status.stdout).toContain("Recovery: the backup shown is not the homeserver's current one (its newest version was deleted)")
    await expectNothingLost(s)
  })
})

describe("export when conduwuit reads a deleted version as the keys still under its id", () => {
  const server = sharedFakeHomeserver({ profile: "conduwuit" })

  it("30 of 50 keys read back after the delete (an upload raced it): BackupDeleted, exit 3, no file, not an export of 30", { timeout: 60_000 }, async () => {
    const s = await setUp(server(), 50)
    expect((await cli(["import", ...s.connection, "--in", s.path, "--format", "json", "--json"])).code).toBe(0)
    const raced = (await server().admin.roomKeys(s.user.userId, s.version)).slice(0, 30)
    const hold = await server().admin.injectFault({ kind: "hold", times: 1, match: { method: "GET", path: "/room_keys/keys" } })
    const out = join(stateDir(), "export.json")
    const exporting = cli(["export", ...s.connection, "--out", out, "--format", "json", "--json"])
    // Deleted, then what the fake keeps under the deleted id once an upload racing the delete wrote after it.
    const { ended } = await across(s, [[hold, 1]], () => CHANGES.deleted(s).then(() => server().admin.insertRoomKeys(s.user.userId, s.version, raced)), [exporting])
    expectStopped(ended[0], "BackupDeleted", /before its keys could be read; no file was written/)
    expect(existsSync(out)).toBe(false)
  })
})
