// The Promise facade's diagnoseKeyStorage / repairKeyStorage: a new device whose backup key is only in Secret
// Storage is told so (4S locked until it gets the recovery key), and the repair with the recovery key caches it; an
// app that gives `crossSigningMasterKey` gets a backup an unverified device made signed, so js-sdk devices trust it.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { Effect } from "effect"
import { checkFromTrustingJsSdkDevice, elementAccount, facadeDeviceWithMasterKey, resetByUnverifiedJsSdkDevice } from "./support.js"
import { generateRoomKeys, loginNewDevice, registerUser, type TestUser } from "@matrix-backup/testkit"
import { BackupStore, Ids, KeyBackupClient } from "@matrix-backup/core"
import { FAST_RETRY, FAST_UPLOAD } from "../support/Harness.js"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()
afterEach(stopAllJsSdkClients)

const clientFor = async (url: string, device: TestUser) => {
  const client = await KeyBackupClient.createKeyBackupClient({
    homeserver: FetchHomeserverApi.layerFetch({ baseUrl: url, accessToken: Redacted.make(device.accessToken), userId: Ids.UserId.make(device.userId), retry: FAST_RETRY }),
    store: BackupStore.layerMemory,
    deviceKeys: { userId: device.userId, deviceId: device.deviceId, deviceSeed: Redacted.make(globalThis.crypto.getRandomValues(new Uint8Array(32))) },
    uploadOptions: FAST_UPLOAD,
    recoveryOptions: { passphraseIterations: 1000 },
    checkOnStart: false,
  })
  clients.push(client)
  return client
}

describe("facade: diagnoseKeyStorage and repairKeyStorage", () => {
  it("a device without the backup key learns it must give the recovery key; the repair then caches it from 4S", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const user = await registerUser(server.url)
    const first = await clientFor(server.url, user)
    let recoveryKey = ""
    await first.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const key = await first.createRecoveryKeyFromPassphrase()
        recoveryKey = key.encodedPrivateKey ?? ""
        return key
      },
      setupNewKeyBackup: true,
    })
    const held = generateRoomKeys(7, { rooms: 2, seed: "facade" })
    await first.addRoomKeys(held, { imported: false })
    await first.waitForBackupSteadyState()
    expect((await first.diagnoseKeyStorage()).healthy).toBe(true)

    const second = await clientFor(server.url, await loginNewDevice(server.url, user))
    const before = await second.diagnoseKeyStorage()
    expect(before.secretStorage.backupKey).toBe("Locked")
    expect(before.drifts.map((d) => [d.kind, d.action])).toEqual([["BackupNotTrusted", "EnterRecoveryKey"], ["BackupKeyNotCached", "EnterRecoveryKey"]])
    const declined = await second.repairKeyStorage()
    expect(declined.steps.map((s) => [s.action, s.outcome])).toEqual([["EnterRecoveryKey", "Skipped"]])

    const repaired = await second.repairKeyStorage({ secretStorageKey: { recoveryKey } })
    expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
      ["OpenSecretStorage", "Done"],
      ["CacheKeyFromSecretStorage", "Done"],
      ["UploadPendingKeys", "Done"],
    ])
    expect(repaired.after.healthy).toBe(true)
    expect(await second.getSessionBackupPrivateKey()).toEqual(await first.getSessionBackupPrivateKey())
    expect(JSON.stringify(repaired)).not.toContain(recoveryKey)
    // Nothing was lost or added: the server holds exactly the keys the first device held.
    const version = (await second.getActiveSessionBackupVersion()) ?? ""
    const onServer = (await server.admin.roomKeys(user.userId, version)).map((k) => `${k.roomId}|${k.sessionId}`).sort()
    expect(onServer).toEqual(held.map((k) => `${k.room_id}|${k.session_id}`).sort())
  })

  it("with the master key, the repair signs a backup an unverified js-sdk device made; js-sdk devices that trust the identity then trust it", { timeout: 120_000 }, async () => {
    const server = await startServer()
    const url = server.url
    const user = await registerUser(url)
    const { recoveryKey, masterSeed } = await Effect.runPromise(elementAccount({ url, admin: server.admin }, user))
    // A device the user never verified resets the backup: the new version carries only its own signature.
    const version = await resetByUnverifiedJsSdkDevice(url, user, recoveryKey)

    const client = await facadeDeviceWithMasterKey(url, user, masterSeed)
    clients.push(client)
    const before = await client.diagnoseKeyStorage()
    expect(before.server).toMatchObject({ version, trusted: false, masterKeySignature: "Missing" })
    // 4S is locked, so whether our key would open it is not known yet: only the recovery key helps.
    expect(before.drifts.map((d) => [d.kind, d.action])).toEqual([["BackupNotTrusted", "EnterRecoveryKey"], ["BackupKeyNotCached", "EnterRecoveryKey"]])

    // The sign step alone refuses while this device holds no key that opens the backup, and signs nothing.
    expect(await client.signBackup()).toMatchObject({ action: "SignBackup", outcome: "Skipped", refusal: "BackupKeyDoesNotOpen" })
    expect((await client.diagnoseKeyStorage()).server).toMatchObject({ version, masterKeySignature: "Missing" })

    const repaired = await client.repairKeyStorage({ secretStorageKey: { recoveryKey } })
    expect(repaired.before.drifts.map((d) => [d.kind, d.action])).toContainEqual(["BackupNotCrossSigned", "SignBackup"])
    expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
      ["OpenSecretStorage", "Done"],
      ["CacheKeyFromSecretStorage", "Done"],
      ["SignBackup", "Done"],
      ["UploadPendingKeys", "Done"],
    ])
    expect(repaired.after).toMatchObject({ healthy: true, server: { version, trusted: true, masterKeySignature: "Valid" } })
    expect(JSON.stringify(repaired)).not.toContain(recoveryKey)
    const seen = await Effect.runPromise(checkFromTrustingJsSdkDevice({ url, admin: server.admin }, user, recoveryKey))
    expect(seen).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
  })

  it("an account with a backup but no Secret Storage gets one through the repair; a new device then takes the key from it", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const user = await registerUser(server.url)
    const first = await clientFor(server.url, user)
    await first.resetKeyBackup()
    await first.addRoomKeys(generateRoomKeys(5, { rooms: 2, seed: "facade-4s" }), { imported: false })
    await first.waitForBackupSteadyState()
    expect((await first.diagnoseKeyStorage()).drifts.map((d) => [d.kind, d.action])).toEqual([["NoSecretStorage", "SetUpSecretStorage"]])

    let recoveryKey = ""
    const createSecretStorageKey = async () => {
      const key = await first.createRecoveryKeyFromPassphrase()
      recoveryKey = key.encodedPrivateKey ?? ""
      return key
    }
    const repaired = await first.repairKeyStorage({ setUpSecretStorage: { createSecretStorageKey } })
    expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([["SetUpSecretStorage", "Done"], ["UploadPendingKeys", "Done"]])
    expect(repaired.after).toMatchObject({ healthy: true, secretStorage: { defaultKey: "Aes" } })
    expect(JSON.stringify(repaired)).not.toContain(recoveryKey)

    const second = await clientFor(server.url, await loginNewDevice(server.url, user))
    expect((await second.repairKeyStorage({ secretStorageKey: { recoveryKey } })).after.healthy).toBe(true)
    expect(await second.getSessionBackupPrivateKey()).toEqual(await first.getSessionBackupPrivateKey())
  })
})
