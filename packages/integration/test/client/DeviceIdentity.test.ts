// The two ways an app runs the facade: with the device's signing key (covered by the other facade tests) and
// without it, where trust rests on the decryption key held for the backup and creating a backup is refused.
import { describe, expect, it } from "@effect/vitest"
import { createKeyBackupClient, memoryStore } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { createUserWithCrossSigning, generateRoomKeys, loginNewDevice } from "@matrix-backup/testkit"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()

type Device = { readonly userId: string; readonly deviceId: string; readonly accessToken: string }

const start = async (url: string, device: Device, deviceSigningKey?: Uint8Array, crossSigningMasterKey?: Uint8Array) => {
  const client = await createKeyBackupClient({
    homeserver: fetchHomeserver({ baseUrl: url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId }),
    store: memoryStore(),
    ...(deviceSigningKey === undefined ? {} : { deviceSigningKey }),
    ...(crossSigningMasterKey === undefined ? {} : { crossSigningMasterKey }),
    uploadOptions: { maxStartJitter: 0, backoffBase: 5 },
    checkOnStart: false,
  })
  clients.push(client)
  return client
}

const randomSeed = () => globalThis.crypto.getRandomValues(new Uint8Array(32))

describe("a device with its signing key and the master key", () => {
  it("trusts a backup another cross-signed device made, and signs new backups with both keys", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const owner = await start(server.url, identity, identity.deviceSigningSeed)
    await owner.resetKeyBackup()

    const masterDevice = await loginNewDevice(server.url, identity)
    const withMaster = await start(server.url, masterDevice, randomSeed(), identity.masterSeed)
    expect((await withMaster.checkKeyBackupAndEnable())?.trustInfo).toEqual({ trusted: true, matchesDecryptionKey: false })
    const withoutMaster = await start(server.url, await loginNewDevice(server.url, identity), randomSeed())
    expect((await withoutMaster.checkKeyBackupAndEnable())?.trustInfo).toEqual({ trusted: false, matchesDecryptionKey: false })

    await withMaster.resetKeyBackup()
    const signatures: unknown = Object((await withMaster.getKeyBackupInfo())?.auth_data["signatures"])[identity.userId]
    expect(Object.keys(Object(signatures)).sort()).toEqual([`ed25519:${identity.masterPublicKey}`, `ed25519:${masterDevice.deviceId}`].sort())
  })

  it("refuses a master key without a device key, or seeds of the wrong size", async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    await expect(start(server.url, identity, undefined, identity.masterSeed)).rejects.toMatchObject({ code: "InvalidArgument" })
    await expect(start(server.url, identity, identity.deviceSigningSeed, new Uint8Array(16))).rejects.toMatchObject({ code: "InvalidArgument" })
  })
})

describe("a device without its signing key", () => {
  it("refuses to create a backup (nothing deleted), trusts a backup only through the held key, then uploads and restores", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const owner = await start(server.url, identity, identity.deviceSigningSeed)
    await owner.resetKeyBackup()
    await owner.addRoomKeys(generateRoomKeys(10, { seed: "owner" }))
    await owner.waitForBackupSteadyState()
    const key = await owner.getSessionBackupPrivateKey()
    if (key === null) throw new Error("owner holds no backup key")

    const keyless = await start(server.url, await loginNewDevice(server.url, identity))
    await expect(keyless.resetKeyBackup()).rejects.toMatchObject({ name: "EngineError", code: "NoSigningKey", httpStatus: undefined })
    expect((await keyless.getKeyBackupInfo())?.version).toBe("1")

    // Signed by another device and the master key, neither verified here: not trusted, uploads stay off.
    expect((await keyless.checkKeyBackupAndEnable())?.trustInfo).toEqual({ trusted: false, matchesDecryptionKey: false })
    expect(await keyless.getActiveSessionBackupVersion()).toBeNull()

    await keyless.storeSessionBackupPrivateKey(key, "1")
    expect((await keyless.checkKeyBackupAndEnable())?.trustInfo).toEqual({ trusted: false, matchesDecryptionKey: true })
    expect(await keyless.getActiveSessionBackupVersion()).toBe("1")
    const info = await keyless.getKeyBackupInfo()
    if (info === null) throw new Error("no backup info")
    const trust = await keyless.isKeyBackupTrusted(info)
    expect(trust.details.deviceSignature).toMatchObject({ state: "Missing", reason: "DeviceKeyUnknown" })

    await keyless.addRoomKeys(generateRoomKeys(5, { seed: "keyless" }))
    await keyless.waitForBackupSteadyState()
    expect(await server.admin.roomKeys(identity.userId, "1")).toHaveLength(15)
    expect(await keyless.restoreKeyBackup()).toMatchObject({ total: 15, imported: 15 })
  })
})
