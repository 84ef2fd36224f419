// Every command against the fake homeserver over loopback HTTP: create, status, import, restore (resumable,
// per room, with or without spaces, by passphrase, with an old-style backup key), export, delete.
import { RecoveryKey } from "@matrix-backup/core"
import {
  backupPublicKeyFromPrivate,
  brokenEntries,
  generateRoomKeys,
  loginNewDevice,
  registerUser,
  type RunningFakeHomeserver,
  seedBackup,
  startFakeHomeserver,
} from "@matrix-backup/testkit"
import { randomBytes } from "node:crypto"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cli, expectFailure, expectNoSecrets, stateDir } from "./support.js"

let server: RunningFakeHomeserver
beforeEach(async () => {
  server = await startFakeHomeserver()
})
afterEach(async () => {
  await server.stop()
})

const connection = (user: { accessToken: string }, state: string) => ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]

const keyFile = (count: number, rooms = 3) => {
  const keys = generateRoomKeys(count, { rooms })
  const path = join(stateDir(), "keys.json")
  writeFileSync(path, JSON.stringify(keys))
  return { keys, path }
}

/** A user whose first device has created a backup and backed up `count` keys through `import`. */
const backedUpUser = async (count: number, createArgs: ReadonlyArray<string> = []) => {
  const user = await registerUser(server.url)
  const state = stateDir()
  const created = await cli(["create", ...connection(user, state), ...createArgs, "--json"])
  expect(created.code).toBe(0)
  const recoveryKey = String(created.json?.["recoveryKey"])
  const { keys, path } = keyFile(count)
  const imported = await cli(["import", ...connection(user, state), "--in", path, "--format", "json", "--json"])
  expect(imported.json).toEqual({ imported: count, alreadyPresent: 0, uploaded: count, pending: 0, invalid: 0 })
  return { user, state, recoveryKey, keys, version: String(created.json?.["backupVersion"]) }
}

describe("create, status, import", () => {
  it("creates 4S and a backup, uploads imported keys, and reports a trusted, complete status", { timeout: 60_000 }, async () => {
    const { user, state, recoveryKey, version } = await backedUpUser(120)
    expect(recoveryKey).toMatch(/^Es[A-Za-z0-9]{2}( [A-Za-z0-9]{4}){11}$/)
    expect(await server.admin.roomKeys(user.userId, version)).toHaveLength(120)
    expect(await server.admin.accountData(user.userId, "m.megolm_backup.v1")).toMatchObject({ encrypted: expect.any(Object) })
    expect((statSync(join(state, "device.json")).mode & 0o777).toString(8)).toBe("600")
    expect((statSync(join(state, "store.sqlite")).mode & 0o777).toString(8)).toBe("600")

    const status = await cli(["status", ...connection(user, state), "--json"])
    expect(status.code).toBe(0)
    expect(status.json).toMatchObject({
      backup: { version, algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", count: 120, etag: expect.any(String) },
      trust: {
        trusted: true,
        matchesDecryptionKey: true,
        details: { deviceSignature: { keyId: `ed25519:${user.deviceId}`, state: "ValidAndTrusted" }, decryptionKey: "Matches" },
      },
      pending: 0,
      total: 120,
      uploads: "Enabled",
      recovery: { state: "Ready", reason: null },
    })
    expectNoSecrets(status, [user.accessToken, recoveryKey])
  })

  it("status from the environment on a new device: not trusted, nothing local, the recovery key still needed", { timeout: 60_000 }, async () => {
    const { user } = await backedUpUser(10)
    const other = await loginNewDevice(server.url, user)
    const status = await cli(["status", "--state", stateDir(), "--json"], { MATRIX_HOMESERVER: server.url, MATRIX_ACCESS_TOKEN: other.accessToken })
    expect(status.json).toMatchObject({
      backup: { count: 10 },
      trust: { trusted: false, matchesDecryptionKey: false, details: { decryptionKey: "NoKeyStored" } },
      total: 0,
      recovery: { state: "NotReady", reason: "BackupKeyNotCached" },
    })
  })

  it("without --state, the device's state lives under XDG_STATE_HOME; secrets can come from the environment", { timeout: 60_000 }, async () => {
    const { user, recoveryKey } = await backedUpUser(8)
    const second = await loginNewDevice(server.url, user)
    const base = stateDir()
    const env = { MATRIX_HOMESERVER: server.url, MATRIX_ACCESS_TOKEN: second.accessToken, MATRIX_RECOVERY_KEY: recoveryKey, XDG_STATE_HOME: base }
    const run = await cli(["restore", "--json"], env)
    expect(run.json).toMatchObject({ total: 8, imported: 8 })
    const dir = join(base, "matrix-backup", user.userId.replace(/[^A-Za-z0-9._-]/g, "_"), second.deviceId)
    expect((statSync(dir).mode & 0o777).toString(8)).toBe("700")
    expect(JSON.parse(readFileSync(join(dir, "device.json"), "utf8"))).toMatchObject({ userId: user.userId, deviceId: second.deviceId })
    expectNoSecrets(run, [recoveryKey, second.accessToken])
  })

  it("status of an account without backup or 4S", async () => {
    const user = await registerUser(server.url)
    const status = await cli(["status", ...connection(user, stateDir()), "--json"])
    expect(status.json).toMatchObject({ backup: null, trust: null, pending: 0, total: 0, recovery: { state: "NotReady", reason: "NoSecretStorage" } })
  })
})

describe("restore", () => {
  it("restores on a second device with the recovery key, with or without spaces; a rerun imports nothing new", { timeout: 60_000 }, async () => {
    const { user, recoveryKey, keys } = await backedUpUser(150)
    const second = await loginNewDevice(server.url, user)
    const state = stateDir()
    const first = await cli(["restore", ...connection(second, state), "--recovery-key", recoveryKey.replace(/ /g, ""), "--threads", "2", "--json"])
    expect(first.code).toBe(0)
    expect(first.json).toMatchObject({ total: 150, imported: 150, failures: {}, seconds: expect.any(Number), keysPerSecond: expect.any(Number) })
    expectNoSecrets(first, [recoveryKey, second.accessToken, ...keys.slice(0, 5).map((k) => k.session_key)])
    const again = await cli(["restore", ...connection(second, state), "--recovery-key", recoveryKey, "--json"])
    expect(again.json).toMatchObject({ total: 150 })
    const status = await cli(["status", ...connection(second, state), "--json"])
    // Signed by the first device only, so not "trusted"; the restored key matching it is what lets this device use it.
    expect(status.json).toMatchObject({ total: 150, pending: 0, trust: { trusted: false, matchesDecryptionKey: true }, recovery: { state: "Ready" } })
  })

  it("an interrupted restore fails cleanly and the next run resumes where it stopped", { timeout: 90_000 }, async () => {
    const user = await registerUser(server.url)
    const state = stateDir()
    const created = await cli(["create", ...connection(user, state), "--json"])
    const recoveryKey = String(created.json?.["recoveryKey"])
    const { path } = keyFile(600, 12)
    const seeded = await cli(["import", ...connection(user, state), "--in", path, "--json"]) // format recognised from the content
    expect(seeded.json).toMatchObject({ imported: 600, uploaded: 600, pending: 0 })
    const second = await loginNewDevice(server.url, user)
    const secondState = stateDir()
    await server.admin.injectFault({ kind: "resetMidBody", afterBytes: 200_000, match: { method: "GET", path: "/room_keys/keys" }, times: 20 })
    const cut = await cli(["restore", ...connection(second, secondState), "--recovery-key", recoveryKey, "--json"])
    expectFailure(cut, "RestoreInterrupted", [recoveryKey, second.accessToken])
    expect(cut.stderr).toMatch(/run the restore again to resume/)
    expectNoSecrets(cut, [recoveryKey, second.accessToken])
    await server.admin.clearFaults()
    const resumed = await cli(["restore", ...connection(second, secondState), "--recovery-key", recoveryKey, "--json"])
    expect(resumed.code).toBe(0)
    const { total, imported, skipped } = resumed.json as { total: number; imported: number; skipped: number }
    expect(total).toBe(600)
    expect(skipped).toBeGreaterThan(0)
    expect(imported + skipped).toBe(600)
    const status = await cli(["status", ...connection(second, secondState), "--json"])
    expect(status.json).toMatchObject({ total: 600 })
  })

  it("restores only the rooms asked for", { timeout: 60_000 }, async () => {
    const { user, recoveryKey, keys } = await backedUpUser(90)
    const room = keys[0]?.room_id ?? ""
    const inRoom = keys.filter((k) => k.room_id === room).length
    const run = await cli(["restore", ...connection(user, stateDir()), "--recovery-key", recoveryKey, "--room", room, "--json"])
    expect(run.json).toMatchObject({ total: inRoom, imported: inRoom })
  })

  it("opens 4S with a passphrase given at create time", { timeout: 60_000 }, async () => {
    const passphrase = `correct horse ${randomBytes(4).toString("hex")}`
    const { user, recoveryKey } = await backedUpUser(20, ["--passphrase", passphrase])
    const second = await loginNewDevice(server.url, user)
    const byPassphrase = await cli(["restore", ...connection(second, stateDir()), "--passphrase", passphrase, "--json"])
    expect(byPassphrase.json).toMatchObject({ total: 20, imported: 20 })
    expectNoSecrets(byPassphrase, [passphrase, recoveryKey])
    const byKey = await cli(["restore", ...connection(second, stateDir()), "--recovery-key", recoveryKey, "--json"])
    expect(byKey.json).toMatchObject({ imported: 20 })
  })

  it("accepts a recovery key that is the backup key itself (older clients) and counts broken entries by reason", { timeout: 60_000 }, async () => {
    const user = await registerUser(server.url)
    const backupKey = randomBytes(32)
    const keys = generateRoomKeys(40, { rooms: 2 })
    const broken = brokenEntries(backupPublicKeyFromPrivate(backupKey))
    await seedBackup(server.admin, user.userId, { backupPrivateKey: backupKey, keys, extraEntries: broken })
    const run = await cli(["restore", ...connection(user, stateDir()), "--recovery-key", RecoveryKey.encodeRecoveryKey(backupKey), "--json"])
    expect(run.code).toBe(0)
    expect(run.json).toMatchObject({ total: 40 + broken.length, imported: 40 })
    const failures = run.json?.["failures"] as Record<string, number>
    expect(Object.values(failures).reduce((a, b) => a + b, 0)).toBe(broken.length)
    expect(failures).toMatchObject({ BadMac: 2, BadPadding: 1, MissingFields: 1, UnknownAlgorithm: 1 })
    const human = await cli(["restore", ...connection(user, stateDir()), "--recovery-key", RecoveryKey.encodeRecoveryKey(backupKey)])
    expect(human.stdout).toMatch(/Restored 40 of 49 keys/)
    expect(human.stdout).toMatch(/Failures: .*BadMac 2/)
    // export classifies the same entries the same way
    const out = join(stateDir(), "seeded.json")
    const exported = await cli(["export", ...connection(user, stateDir()), "--recovery-key", RecoveryKey.encodeRecoveryKey(backupKey), "--format", "json", "--out", out, "--json"])
    expect(exported.json).toEqual({ file: out, exported: 40, failures })
  })
})

describe("export and delete", () => {
  it("exports the backup as a JSON array equal to what was backed up, without touching the state store", { timeout: 60_000 }, async () => {
    const { user, recoveryKey, keys } = await backedUpUser(60)
    const state = stateDir()
    const out = join(stateDir(), "out.json")
    const run = await cli(["export", ...connection(user, state), "--recovery-key", recoveryKey, "--format", "json", "--out", out, "--json"])
    expect(run.json).toEqual({ file: out, exported: 60, failures: {} })
    expect((statSync(out).mode & 0o777).toString(8)).toBe("600")
    const exported: Array<{ session_id: string; session_key: string; room_id: string }> = JSON.parse(readFileSync(out, "utf8"))
    const sorted = (list: ReadonlyArray<{ session_id: string; session_key: string; room_id: string }>) =>
      list.map((k) => `${k.room_id}|${k.session_id}|${k.session_key}`).sort()
    expect(sorted(exported)).toEqual(sorted(keys))
    const status = await cli(["status", ...connection(user, state), "--json"])
    expect(status.json).toMatchObject({ total: 0 })
  })

  it("an Element key file exported from one backup imports back into a new one", { timeout: 90_000 }, async () => {
    const { user, state, recoveryKey, keys } = await backedUpUser(70)
    const file = join(stateDir(), "element-keys.txt")
    const exportPassphrase = `file ${randomBytes(4).toString("hex")}`
    const exported = await cli(["export", ...connection(user, state), "--recovery-key", recoveryKey, "--out", file, "--export-passphrase", exportPassphrase, "--json"])
    expect(exported.json).toEqual({ file, exported: 70, failures: {} })
    expect(readFileSync(file, "utf8")).toMatch(/^-----BEGIN MEGOLM SESSION DATA-----\n[A-Za-z0-9+/=\n]+-----END MEGOLM SESSION DATA-----\n$/)
    expectNoSecrets(exported, [exportPassphrase, recoveryKey, ...keys.slice(0, 3).map((k) => k.session_key)])

    // A new account state: a fresh backup (create --force replaces Secret Storage and the old version) on a new device.
    const second = await loginNewDevice(server.url, user)
    const secondState = stateDir()
    const created = await cli(["create", ...connection(second, secondState), "--force", "--json"])
    expect(created.json).toMatchObject({ secretStorage: "replaced", replacedBackup: "1" })
    const newKey = String(created.json?.["recoveryKey"])
    const imported = await cli(["import", ...connection(second, secondState), "--in", file, "--export-passphrase", exportPassphrase, "--json"])
    expect(imported.json).toEqual({ imported: 70, alreadyPresent: 0, uploaded: 70, pending: 0, invalid: 0 })
    expect(await server.admin.roomKeys(user.userId, String(created.json?.["backupVersion"]))).toHaveLength(70)

    const out = join(stateDir(), "again.json")
    await cli(["export", ...connection(second, stateDir()), "--recovery-key", newKey, "--format", "json", "--out", out, "--json"])
    const again: Array<{ session_key: string; sender_key: string }> = JSON.parse(readFileSync(out, "utf8"))
    expect(again.map((k) => `${k.session_key}|${k.sender_key}`).sort()).toEqual(keys.map((k) => `${k.session_key}|${k.sender_key}`).sort())
  })

  it("deletes a version; status then shows no backup", { timeout: 60_000 }, async () => {
    const { user, state, version } = await backedUpUser(5)
    const run = await cli(["delete", ...connection(user, state), "--version", version, "--force", "--json"])
    expect(run.json).toEqual({ deleted: version, keys: 5 })
    const status = await cli(["status", ...connection(user, state), "--json"])
    expect(status.json).toMatchObject({ backup: null })
    const again = await cli(["delete", ...connection(user, state), "--version", version, "--force", "--json"])
    expect(again.json?.["error"]).toMatchObject({ code: "NoBackup" })
  })
})
