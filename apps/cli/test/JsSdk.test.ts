// Interop with matrix-js-sdk 43 (rust crypto) over loopback HTTP: js-sdk sets up 4S and a backup and uploads keys
// itself; `matrix-backup export` with js-sdk's recovery key gives back exactly those keys, and keys js-sdk exports
// as JSON import and upload through `matrix-backup import`.
import { generateRoomKeys, loginNewDevice, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import {
  bootstrapJsSdkBackup,
  bootstrapJsSdkCrossSigning,
  bootstrapJsSdkSecretStorage,
  jsSdkSecondDevice,
  recoveryKeyCell,
  startJsSdkClient,
  stopAllJsSdkClients,
} from "@matrix-backup/testkit/JsSdk"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cli, expectFailure, expectNoSecrets, stateDir } from "./support.js"

const waitFor = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe("matrix-js-sdk 43 interop", () => {
  let server: RunningFakeHomeserver | undefined
  afterEach(async () => {
    stopAllJsSdkClients()
    await server?.stop()
  })

  it("exports the keys js-sdk backed up, and backs up keys js-sdk exported", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const user = await registerUser(server.url)
    const cell = recoveryKeyCell()
    const { crypto } = await startJsSdkClient(server.url, user, { getSecretStorageKey: cell.get })
    await bootstrapJsSdkCrossSigning(crypto, user)
    const created = await bootstrapJsSdkSecretStorage(crypto, cell)
    const check = await crypto.checkKeyBackupAndEnable()
    const version = check?.backupInfo.version ?? ""
    expect(check?.trustInfo.trusted).toBe(true)

    // js-sdk encrypts and uploads these itself (imported keys are backed up by its upload loop).
    const keys = generateRoomKeys(40, { rooms: 3, seed: "js-sdk-interop" })
    await crypto.importRoomKeys(keys.map((k) => ({ ...k, forwarding_curve25519_key_chain: [...k.forwarding_curve25519_key_chain] })))
    await waitFor(async () => (await server?.admin.roomKeys(user.userId, version))?.length === keys.length, 60_000)

    const recoveryKey = created.encodedPrivateKey ?? ""
    const connection = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir()]
    const out = join(stateDir(), "from-js-sdk.json")
    const exported = await cli(["export", ...connection, "--recovery-key", recoveryKey, "--format", "json", "--out", out, "--json"])
    expect(exported.json).toEqual({ file: out, exported: 40, failures: {} })
    expectNoSecrets(exported, [recoveryKey, user.accessToken])
    const ours: Array<Record<string, unknown>> = JSON.parse(readFileSync(out, "utf8"))
    const fields = (k: Record<string, unknown>) =>
      JSON.stringify([k["room_id"], k["session_id"], k["session_key"], k["sender_key"], k["sender_claimed_keys"], k["algorithm"]])
    expect(ours.map(fields).sort()).toEqual(keys.map((k) => fields({ ...k })).sort())

    // The other direction: js-sdk's own JSON export goes through our import into the same backup.
    const more = generateRoomKeys(15, { rooms: 2, seed: "js-sdk-export" })
    const secondState = stateDir()
    const second = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", secondState]
    const restored = await cli(["restore", ...second, "--recovery-key", recoveryKey, "--json"])
    expect(restored.json).toMatchObject({ total: 40, imported: 40 })
    const file = join(stateDir(), "js-sdk-export.json")
    writeFileSync(file, JSON.stringify(more))
    const imported = await cli(["import", ...second, "--in", file, "--format", "json", "--json"])
    expect(imported.json).toMatchObject({ imported: 15, uploaded: 15, pending: 0 })
    expect(await server.admin.roomKeys(user.userId, version)).toHaveLength(55)
    // js-sdk can decrypt what we uploaded: a restore on its side sees all 55.
    const result = await crypto.restoreKeyBackup()
    expect(result).toMatchObject({ total: 55, imported: 55 })
  })

  it("create on an account whose Secret Storage js-sdk made refuses to replace it, and keeps it given its recovery key", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const user = await registerUser(server.url)
    const js = await bootstrapJsSdkBackup(server.url, user)
    const recoveryKey = js.recoveryKey.encodedPrivateKey ?? ""
    const before = {
      defaultKey: await server.admin.accountData(user.userId, "m.secret_storage.default_key"),
      master: await server.admin.accountData(user.userId, "m.cross_signing.master"),
      versions: await server.admin.backupVersions(user.userId),
    }
    expect(before.master).toMatchObject({ encrypted: expect.any(Object) })
    const oldVersion = before.versions.find((v) => !v.deleted)?.version
    const me = await loginNewDevice(server.url, user)
    const connection = ["--homeserver", server.url, "--access-token", me.accessToken, "--state", stateDir()]

    const refused = await cli(["create", ...connection, "--json"])
    expectFailure(refused, "NeedsForce", [recoveryKey])
    expect(refused.stderr).toMatch(/already has Secret Storage.*--recovery-key to keep it.*--force to replace it/)
    const backupRefused = await cli(["create", ...connection, "--recovery-key", recoveryKey, "--json"])
    expectFailure(backupRefused, "NeedsForce", [recoveryKey])
    expect(backupRefused.stderr).toMatch(new RegExp(`key backup version ${oldVersion}`))
    expect({
      defaultKey: await server.admin.accountData(user.userId, "m.secret_storage.default_key"),
      master: await server.admin.accountData(user.userId, "m.cross_signing.master"),
      versions: await server.admin.backupVersions(user.userId),
    }).toEqual(before)

    const kept = await cli(["create", ...connection, "--recovery-key", recoveryKey, "--force", "--json"])
    expect(kept.json).toMatchObject({ recoveryKey: null, secretStorage: "kept", replacedBackup: oldVersion, backupVersion: expect.any(String) })
    expectNoSecrets(kept, [recoveryKey, me.accessToken])
    expect(await server.admin.accountData(user.userId, "m.secret_storage.default_key")).toEqual(before.defaultKey)
    expect(await server.admin.accountData(user.userId, "m.cross_signing.master")).toEqual(before.master)
    // Another js-sdk device opens the same Secret Storage with the same recovery key and gets the new backup's key.
    const other = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: js.secretKey })
    const check = await other.crypto.checkKeyBackupAndEnable()
    expect(check?.backupInfo.version).toBe(kept.json?.["backupVersion"])
    expect(check?.trustInfo.matchesDecryptionKey).toBe(true)
  })
})
