// `matrix-backup doctor` against the fake homeserver, as a script runs it: a stale backup key that js-sdk wrote
// into Secret Storage is named and, with --fix and the recovery key, replaced; a backup this device cannot use is
// only reset with --allow-reset, and then only with --force (or a yes at a terminal), carrying every key over. On an
// account set up as Element sets it up, a backup an unverified device made is signed with the cross-signing master
// key --fix reads from Secret Storage, so js-sdk devices that trust the user's identity trust it.
import { generateRoomKeys, loginNewDevice, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { bootstrapJsSdkBackup, checkBackupFromTrustingDevice, jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cli, expectFailure, expectNoPlumbing, expectNoSecrets, stateDir } from "./support.js"

let server: RunningFakeHomeserver
beforeEach(async () => {
  server = await startFakeHomeserver()
})
afterEach(async () => {
  stopAllJsSdkClients()
  await server.stop()
})

const connection = (user: { accessToken: string }, state: string) => ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]

/** A user whose device made 4S and a backup with `create` and backed up `count` keys with `import`. */
const backedUp = async (count: number) => {
  const user = await registerUser(server.url)
  const state = stateDir()
  const created = await cli(["create", ...connection(user, state), "--json"])
  const recoveryKey = String(created.json?.["recoveryKey"])
  const keys = generateRoomKeys(count, { rooms: 2, seed: `doctor-${count}` })
  const file = join(stateDir(), "keys.json")
  writeFileSync(file, JSON.stringify(keys))
  expect((await cli(["import", ...connection(user, state), "--in", file, "--format", "json", "--json"])).code).toBe(0)
  return { user, state, recoveryKey, keys, version: String(created.json?.["backupVersion"]) }
}

const kinds = (json: Record<string, unknown> | undefined) => {
  const diagnosis = json?.["diagnosis"]
  const drifts = typeof diagnosis === "object" && diagnosis !== null && "drifts" in diagnosis && Array.isArray(diagnosis.drifts) ? diagnosis.drifts : []
  return drifts.map((d: { kind: string; action: string }) => [d.kind, d.action])
}

describe("matrix-backup doctor", () => {
  it("names a stale key in Secret Storage and, with --fix and the recovery key, stores the right one", { timeout: 90_000 }, async () => {
    const { user, state, recoveryKey, version } = await backedUp(12)
    const healthy = await cli(["doctor", ...connection(user, state), "--json"])
    expect(healthy.code).toBe(0)
    expect(healthy.json).toMatchObject({ diagnosis: { healthy: true, secretStorage: { backupKey: "Locked" } }, repair: null })

    const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
    await js.client.secretStorage.store("m.megolm_backup.v1", Buffer.from(new Uint8Array(32).fill(7)).toString("base64").replace(/=+$/, ""))

    const found = await cli(["doctor", ...connection(user, state), "--recovery-key", recoveryKey, "--json"])
    expect(kinds(found.json)).toEqual([["BackupKeyMismatch", "StoreKeyInSecretStorage"]])
    const words = await cli(["doctor", ...connection(user, state), "--recovery-key", recoveryKey])
    expect(words.stdout).toContain("Secret Storage: holds the key of ANOTHER backup.")
    expect(words.stdout).toContain("--fix stores this device's key in Secret Storage")
    expectNoPlumbing(words)

    const fixed = await cli(["doctor", "--fix", ...connection(user, state), "--recovery-key", recoveryKey, "--json"])
    expect(fixed.code).toBe(0)
    expect(fixed.json).toMatchObject({
      diagnosis: { healthy: true, secretStorage: { backupKey: "MatchesCurrent" } },
      repair: { steps: [{ action: "StoreKeyInSecretStorage", outcome: "Done" }, { action: "UploadPendingKeys", outcome: "Done" }] },
    })
    expectNoSecrets(fixed, [recoveryKey, user.accessToken])
    // A new js-sdk device now loads the right key from 4S and opens the backup.
    const other = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
    const check = await other.crypto.checkKeyBackupAndEnable()
    expect({ version: check?.backupInfo.version, matches: check?.trustInfo.matchesDecryptionKey }).toEqual({ version, matches: true })
  })

  it("a backup this device cannot use is reset only with --allow-reset and --force, keeping every key", { timeout: 90_000 }, async () => {
    const { user, state, recoveryKey, keys } = await backedUp(9)
    const foreign = await server.admin.resetBackupAsOtherDevice(user.userId)
    const found = await cli(["doctor", ...connection(user, state), "--recovery-key", recoveryKey, "--json"])
    expect(kinds(found.json)).toEqual([["BackupNotTrusted", "ResetBackup"], ["CachedKeyForOtherVersion", "ResetBackup"]])

    const declined = await cli(["doctor", "--fix", ...connection(user, state), "--recovery-key", recoveryKey])
    expect(declined.code).toBe(0)
    expect(declined.stdout).toContain("Repair: no new backup made: add --allow-reset to make one.")
    expect(declined.stdout).toContain("Key storage: 2 problems.")
    expectNoPlumbing(declined)
    const refused = await cli(["doctor", "--fix", "--allow-reset", ...connection(user, state), "--recovery-key", recoveryKey, "--json"])
    expectFailure(refused, "NeedsForce", [recoveryKey, user.accessToken])
    expect((await server.admin.backupVersions(user.userId)).filter((row) => !row.deleted).map((row) => row.version)).toContain(foreign)

    const reset = await cli(["doctor", "--fix", "--allow-reset", "--force", ...connection(user, state), "--recovery-key", recoveryKey, "--json"])
    expect(reset.code).toBe(0)
    expect(reset.json).toMatchObject({ diagnosis: { healthy: true }, repair: { steps: [{ action: "RestoreOlderVersion", outcome: "Done" }, { action: "ResetBackup", outcome: "Done" }, { action: "UploadPendingKeys", outcome: "Done" }] } })
    const live = (await server.admin.backupVersions(user.userId)).filter((row) => !row.deleted)
    expect(live).toHaveLength(1)
    const onServer = (await server.admin.roomKeys(user.userId, live[0]?.version ?? "")).map((k) => `${k.roomId}|${k.sessionId}`).sort()
    expect(onServer).toEqual(keys.map((k) => `${k.room_id}|${k.session_id}`).sort())
  })

  it("on an Element account, --fix signs a backup an unverified js-sdk device made with the master key from Secret Storage", { timeout: 120_000 }, async () => {
    const user = await registerUser(server.url)
    const element = await bootstrapJsSdkBackup(server.url, user)
    const recoveryKey = element.recoveryKey.encodedPrivateKey ?? ""
    const masterKey = (await element.client.secretStorage.get("m.cross_signing.master")) ?? ""
    const answer = () => decodeRecoveryKey(recoveryKey)
    // A device the user never verified resets the backup: the new version carries only its own signature.
    const unverified = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: answer, sync: false })
    await unverified.crypto.resetKeyBackup()
    const version = (await unverified.crypto.getActiveSessionBackupVersion()) ?? ""
    expect(await checkBackupFromTrustingDevice(server.url, user, answer)).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: false } })

    const device = await loginNewDevice(server.url, user)
    const state = stateDir()
    const found = await cli(["doctor", ...connection(device, state), "--recovery-key", recoveryKey, "--json"])
    expect(kinds(found.json)).toContainEqual(["BackupNotCrossSigned", "SignBackup"])
    const words = await cli(["doctor", ...connection(device, state), "--recovery-key", recoveryKey])
    expect(words.stdout).toContain("--fix signs it with the cross-signing master key it reads from Secret Storage (give --recovery-key)")
    expectNoSecrets(words, [recoveryKey, device.accessToken, masterKey])
    const fixed = await cli(["doctor", "--fix", ...connection(device, state), "--recovery-key", recoveryKey, "--json"])
    expect(fixed.code).toBe(0)
    expect(fixed.json).toMatchObject({
      diagnosis: { healthy: true, server: { version, trusted: true, masterKeySignature: "Valid" } },
      repair: {
        steps: [
          { action: "CacheKeyFromSecretStorage", outcome: "Done" },
          { action: "SignBackup", outcome: "Done", detail: `version ${version}, master key from Secret Storage` },
          { action: "UploadPendingKeys", outcome: "Done" },
        ],
      },
    })
    expectNoSecrets(fixed, [recoveryKey, device.accessToken, masterKey])
    expect(await checkBackupFromTrustingDevice(server.url, user, answer)).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
    // Nothing left to do: a second run finds the account in sync and signs nothing.
    const again = await cli(["doctor", "--fix", ...connection(device, state), "--recovery-key", recoveryKey])
    expect(again.stdout).toContain("Key storage: in sync.")
    expect(again.stdout).not.toContain("signed the backup")
  })
})
