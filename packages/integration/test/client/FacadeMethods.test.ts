// The facade's remaining js-sdk methods over real HTTP: restoreKeyBackupWithPassphrase on a legacy passphrase backup,
// and rejections shaped like matrix-js-sdk's MatrixError (errcode, httpStatus, data).
import { describe, expect, it } from "@effect/vitest"
import { pbkdf2Sync, randomBytes } from "node:crypto"
import { createKeyBackupClient, memoryStore } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import type { TestIdentity } from "@matrix-backup/testkit"
import { backupPublicKeyFromPrivate, createUserWithCrossSigning, generateRoomKeys, MEGOLM_BACKUP_V1, seedBackup } from "@matrix-backup/testkit"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()

const ourClient = async (url: string, identity: TestIdentity) => {
  const client = await createKeyBackupClient({
    homeserver: fetchHomeserver({ baseUrl: url, accessToken: identity.accessToken, userId: identity.userId, deviceId: identity.deviceId, retry: { maxAttempts: 1 } }),
    store: memoryStore(),
    deviceSigningKey: identity.deviceSigningSeed,
    checkOnStart: false,
  })
  clients.push(client)
  return client
}

const sessions = (keys: ReadonlyArray<{ readonly session_id: string; readonly session_key: string }>) =>
  keys.map((k) => `${k.session_id}:${k.session_key}`).sort()

describe("restoreKeyBackupWithPassphrase", () => {
  it("refuses a wrong passphrase, then restores with the right one and keeps its key", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const salt = randomBytes(16).toString("hex")
    const privateKey = new Uint8Array(pbkdf2Sync("correct horse", salt, 1000, 32, "sha512"))
    const version = await server.admin.resetBackupAsOtherDevice(identity.userId, MEGOLM_BACKUP_V1, {
      public_key: backupPublicKeyFromPrivate(privateKey),
      private_key_salt: salt,
      private_key_iterations: 1000,
    })
    const keys = generateRoomKeys(60, { rooms: 2 })
    await seedBackup(server, identity.userId, { backupPrivateKey: privateKey, keys, version })
    const client = await ourClient(server.url, identity)

    await expect(client.restoreKeyBackupWithPassphrase("wrong horse")).rejects.toMatchObject({ name: "RestoreError", code: "DecryptionKeyDoesNotMatch" })
    expect(await client.getSessionBackupPrivateKey()).toBeNull()

    const stages: Array<string> = []
    const result = await client.restoreKeyBackupWithPassphrase("correct horse", { progressCallback: (p) => stages.push(p.stage) })
    expect(result).toMatchObject({ total: 60, imported: 60, failed: [] })
    expect(stages[0]).toBe("fetch")
    expect(await client.getSessionBackupPrivateKey()).toEqual(privateKey)
    expect(sessions(await client.exportRoomKeys())).toEqual(sessions(keys))
  })

  it("on a backup whose key is not passphrase-derived rejects with NotPassphraseBackup", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    await seedBackup(server, identity.userId, { backupPrivateKey: new Uint8Array(randomBytes(32)), keys: generateRoomKeys(3) })
    const client = await ourClient(server.url, identity)
    await expect(client.restoreKeyBackupWithPassphrase("anything")).rejects.toMatchObject({ code: "NotPassphraseBackup" })
  })
})

describe("errors like matrix-js-sdk's MatrixError", () => {
  it("carry errcode, httpStatus and data from the homeserver's answer; none when no server was involved", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const client = await ourClient(server.url, identity)
    const notFound: unknown = await client.deleteKeyBackupVersion("7").catch((e: unknown) => e)
    expect(notFound).toBeInstanceOf(Error)
    expect(notFound).toMatchObject({ name: "EngineError", code: "NotFound", errcode: "M_NOT_FOUND", httpStatus: 404, data: { errcode: "M_NOT_FOUND" } })

    const badToken = await createKeyBackupClient({
      homeserver: fetchHomeserver({ baseUrl: server.url, accessToken: "not-a-token", userId: identity.userId, deviceId: identity.deviceId, retry: { maxAttempts: 1 } }),
      store: memoryStore(),
      deviceSigningKey: identity.deviceSigningSeed,
      checkOnStart: false,
    })
    clients.push(badToken)
    const unauthorized: unknown = await badToken.secretStorage.getDefaultKeyId().catch((e: unknown) => e)
    expect(unauthorized).toMatchObject({ name: "Unauthorized", errcode: "M_UNKNOWN_TOKEN", httpStatus: 401, data: { errcode: "M_UNKNOWN_TOKEN" } })
    expect(String(unauthorized)).not.toContain("not-a-token")
    // Wrapped by the engine, the errcode and status still come through.
    await expect(badToken.resetKeyBackup()).rejects.toMatchObject({ name: "EngineError", errcode: "M_UNKNOWN_TOKEN", httpStatus: 401 })

    const local: unknown = await client.storeSessionBackupPrivateKey(new Uint8Array(32), "").catch((e: unknown) => e)
    expect(local).toMatchObject({ code: "InvalidArgument", errcode: undefined, httpStatus: undefined, data: {} })
  })
})
