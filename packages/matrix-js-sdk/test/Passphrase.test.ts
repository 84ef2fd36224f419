// restoreKeyBackupWithPassphrase on a legacy passphrase backup: a wrong passphrase is refused before any download,
// the right one restores and leaves the derived key cached in the client's crypto, as js-sdk does.
import { afterEach, describe, expect, it } from "vitest"
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { backupPublicKeyFromPrivate, generateRoomKeys, MEGOLM_BACKUP_V1, seedBackup } from "@matrix-backup/testkit"
import { stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { pbkdf2Sync, randomBytes } from "node:crypto"
import { restoreKeyBackupWithPassphrase } from "../src/index.js"
import { comparable, deviceWithoutKey, offThread, roomKeyCounts, serverWithUser } from "./support.js"

let server: RunningFakeHomeserver | undefined
afterEach(async () => {
  stopAllJsSdkClients()
  await server?.stop()
  server = undefined
})

describe("restoreKeyBackupWithPassphrase(client, passphrase)", () => {
  it("refuses a wrong passphrase, then restores with the right one and caches its key", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const salt = randomBytes(16).toString("hex")
    const privateKey = new Uint8Array(pbkdf2Sync("correct horse", salt, 1000, 32, "sha512"))
    const version = await server.admin.resetBackupAsOtherDevice(made.user.userId, MEGOLM_BACKUP_V1, {
      public_key: backupPublicKeyFromPrivate(privateKey),
      private_key_salt: salt,
      private_key_iterations: 1000,
    })
    const keys = generateRoomKeys(80, { rooms: 2 })
    await seedBackup(server, made.user.userId, { backupPrivateKey: privateKey, keys, version })
    const device = await deviceWithoutKey(server, made.user)

    await expect(restoreKeyBackupWithPassphrase(device.client, "wrong horse", offThread(0))).rejects.toMatchObject({
      reason: "DecryptionKeyDoesNotMatch",
      imported: 0,
    })
    expect(await device.crypto.getSessionBackupPrivateKey()).toBeNull()

    const result = await restoreKeyBackupWithPassphrase(device.client, "correct horse", offThread(0))
    expect(result).toMatchObject({ total: 80, imported: 80 })
    expect(comparable(await device.crypto.exportRoomKeys())).toEqual(comparable(keys))
    expect(Buffer.from((await device.crypto.getSessionBackupPrivateKey()) ?? []).equals(Buffer.from(privateKey))).toBe(true)
    await device.crypto.checkKeyBackupAndEnable()
    expect(await roomKeyCounts(device)).toEqual({ total: 80, backedUp: 80 })
  })

  it("on a backup whose key is not passphrase-derived fails with NotPassphraseBackup", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    await seedBackup(server, made.user.userId, { backupPrivateKey: new Uint8Array(randomBytes(32)), keys: generateRoomKeys(3) })
    const device = await deviceWithoutKey(server, made.user)
    await expect(restoreKeyBackupWithPassphrase(device.client, "anything", offThread(0))).rejects.toMatchObject({
      reason: "NotPassphraseBackup",
    })
  })
})
