// The repair's sign step on Palpo, which routes the version update on POST only (the PUT is refused with 405 and sent
// again on POST). Palpo 0.4.0 on signs in place. Before 0.4.0 (and with the update on PUT in a variant no release
// shipped) the update makes a new version: the step fails saying so, never "Done"; the old version's keys (from
// another device) are carried into the new one, which ends current, trusted and holding every key once; the old
// version keeps its keys. Through the Promise facade, over real HTTP, with a matrix-js-sdk 43 account.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import {
  encryptRoomKeys,
  generateRoomKeys,
  profileNamed,
  registerUser,
  type ProfileName,
  type ServerProfile,
} from "@matrix-backup/testkit"
import { checkFromTrustingJsSdkDevice, elementAccount, facadeDeviceWithMasterKey, resetByUnverifiedJsSdkDevice } from "../key-storage/support.js"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()
afterEach(stopAllJsSdkClients)

const sessions = (keys: ReadonlyArray<{ readonly roomId: string; readonly sessionId: string }>) => keys.map((k) => `${k.roomId}|${k.sessionId}`).sort()

/**
 * An account set up by Element whose backup a device the user never verified reset, with 25 keys there; then this
 * library's client on a new device runs the repair with the recovery key.
 */
const repairAnUntrustedBackup = async (profile: ProfileName | ServerProfile) => {
  const server = await startServer({ profile })
  const { url, admin } = server
  const user = await registerUser(url)
  const { recoveryKey, masterSeed } = await Effect.runPromise(elementAccount({ url, admin }, user))
  const old = await resetByUnverifiedJsSdkDevice(url, user, recoveryKey)
  const oldInfo = (await admin.backupVersions(user.userId)).find((row) => row.version === old)
  const publicKey = Object(oldInfo?.auth_data)["public_key"]
  await admin.insertRoomKeys(user.userId, old, encryptRoomKeys(String(publicKey), generateRoomKeys(25, { rooms: 2 })))
  const theirs = sessions(await admin.roomKeys(user.userId, old))

  const client = await facadeDeviceWithMasterKey(url, user, masterSeed)
  clients.push(client)
  await admin.clearRequestLog()
  const repaired = await client.repairKeyStorage({ secretStorageKey: { recoveryKey } })
  return { url, admin, user, recoveryKey, old, theirs, client, repaired }
}

describe("the repair signs a backup on Palpo 0.4.0 and later (the update on POST only, in place)", () => {
  it("SignBackup is done after the refused PUT is sent on POST; the same version ends trusted with its keys", { timeout: 120_000 }, async () => {
    const { url, admin, user, recoveryKey, old, theirs, client, repaired } = await repairAnUntrustedBackup("palpo")
    expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
      ["OpenSecretStorage", "Done"],
      ["CacheKeyFromSecretStorage", "Done"],
      ["SignBackup", "Done"],
      ["UploadPendingKeys", "Done"],
    ])
    expect(repaired.after).toMatchObject({ server: { version: old, trusted: true, masterKeySignature: "Valid" } })
    expect(await client.getActiveSessionBackupVersion()).toBe(old)
    const updates = (await admin.requestLog()).filter((e) => e.method !== "GET" && e.path.endsWith(`/room_keys/version/${old}`))
    expect(updates.map((e) => `${e.method} ${e.status}`)).toEqual(["PUT 405", "POST 200"])
    expect((await admin.backupVersions(user.userId)).filter((row) => !row.deleted).map((row) => row.version)).toEqual([old])
    expect(sessions(await admin.roomKeys(user.userId, old))).toEqual(theirs)
    const seen = await Effect.runPromise(checkFromTrustingJsSdkDevice({ url, admin }, user, recoveryKey))
    expect(seen).toMatchObject({ identityVerified: true, version: old, trustInfo: { trusted: true, matchesDecryptionKey: true } })
  })
})

const MINTING: ReadonlyArray<readonly [string, ProfileName | ServerProfile]> = [
  ["Palpo 0.1.1–0.3.0: PUT refused, then on POST", "palpo-legacy"],
  ["the update on PUT, a variant no release shipped", { ...profileNamed("palpo-legacy"), versionUpdateMethod: "PUT" }],
]

describe.each(MINTING)("the repair signs a backup on a server whose update makes a new version (%s)", (_name, profile) => {
  it("SignBackup fails saying so; the old version's keys go once to the new current version, which ends trusted; the old one is kept", { timeout: 120_000 }, async () => {
    const { url, admin, user, recoveryKey, old, theirs, client, repaired } = await repairAnUntrustedBackup(profile)
    const current = String(Number(old) + 1)
    expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
      ["OpenSecretStorage", "Done"],
      ["CacheKeyFromSecretStorage", "Done"],
      ["SignBackup", "Failed"],
      ["RestoreOlderVersion", "Done"],
      ["UploadPendingKeys", "Done"],
    ])
    expect(repaired.steps[2]?.detail).toBe(
      `The server made version ${current} current when asked to update version ${old}; version ${old} no longer takes uploads`,
    )
    expect(repaired.steps[3]?.detail).toBe(`version ${old}: 25 keys, to be uploaded to version ${current}`)
    expect(repaired.after).toMatchObject({ server: { version: current, trusted: true, masterKeySignature: "Valid" } })
    expect(await client.getActiveSessionBackupVersion()).toBe(current)
    // Every key on the new version, each sent once; the old version keeps its keys and stays live.
    expect(sessions(await admin.roomKeys(user.userId, current))).toEqual(theirs)
    expect(sessions(await admin.roomKeys(user.userId, old))).toEqual(theirs)
    expect((await admin.backupVersions(user.userId)).filter((row) => !row.deleted).map((row) => row.version)).toEqual([old, current])
    const puts = (await admin.requestLog()).filter((e) => e.method === "PUT" && e.path.includes("/room_keys/keys"))
    expect(puts.map((e) => e.query)).toEqual([`version=${current}`])
    expect(JSON.stringify(repaired)).not.toContain(recoveryKey)
    const seen = await Effect.runPromise(checkFromTrustingJsSdkDevice({ url, admin }, user, recoveryKey))
    expect(seen).toMatchObject({ identityVerified: true, version: current, trustInfo: { trusted: true, matchesDecryptionKey: true } })
  })
})
