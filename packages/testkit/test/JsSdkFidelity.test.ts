// Fidelity: matrix-js-sdk 43 (rust crypto) runs its real key-backup flows against the fake over
// loopback HTTP. Any endpoint it needs must be served like Synapse; the test never works around one.
import { afterEach, describe, expect, it } from "@effect/vitest"
import type { SecretStorageKeyAnswer } from "../src/JsSdk.js"
import { bootstrapJsSdkBackup, jsSdkSecondDevice, stopAllJsSdkClients } from "../src/JsSdk.js"
import type { RunningFakeHomeserver, TestUser } from "../src/index.js"
import { backupPublicKeyFromPrivate, brokenEntries, generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "../src/index.js"

describe("matrix-js-sdk 43 against the fake", () => {
  let server: RunningFakeHomeserver | undefined
  afterEach(async () => {
    stopAllJsSdkClients()
    await server?.stop()
  })

  /** First device: cross-signing, 4S with a recovery key, and a fresh trusted backup. */
  const bootstrap = async (url: string) => {
    const user = await registerUser(url, { username: "fidelity" })
    return { user, ...(await bootstrapJsSdkBackup(url, user)) }
  }

  /** A second device of the same user that loads the backup key from 4S. */
  const secondDevice = async (url: string, user: TestUser, secretKey: SecretStorageKeyAnswer) => {
    const { device, crypto } = await jsSdkSecondDevice(url, user, { getSecretStorageKey: secretKey })
    expect(device.deviceId).not.toBe(user.deviceId)
    return crypto
  }

  it("bootstraps cross-signing, 4S and a trusted backup; a second device restores seeded keys", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const url = server.url
    const { user, secretKey, crypto } = await bootstrap(url)
    expect(await server.admin.accountData(user.userId, "m.secret_storage.default_key")).toMatchObject({ key: expect.any(String) })

    const check = await crypto.checkKeyBackupAndEnable()
    expect(check?.trustInfo.trusted).toBe(true)
    expect(check?.trustInfo.matchesDecryptionKey).toBe(true)
    const version = check?.backupInfo.version
    expect(version).toBeDefined()
    const rows = await server.admin.backupVersions(user.userId)
    expect(rows.filter((row) => !row.deleted).at(-1)?.version).toBe(version)
    expect(await server.admin.accountData(user.userId, "m.megolm_backup.v1")).toMatchObject({ encrypted: expect.any(Object) })

    const backupKey = await crypto.getSessionBackupPrivateKey()
    if (backupKey === null) throw new Error("no backup key cached")
    const keys = generateRoomKeys(50, { rooms: 3 })
    await seedBackup(server.admin, user.userId, { backupPrivateKey: backupKey, keys, ...(version === undefined ? {} : { version }) })

    const restored = await (await secondDevice(url, user, secretKey)).restoreKeyBackup()
    const stored = await server.admin.roomKeys(user.userId, version ?? "")
    expect(restored.total).toBe(stored.length)
    expect(restored.imported).toBe(restored.total)
    expect(restored.total).toBeGreaterThanOrEqual(50)

    // js-sdk asks for a backup before one exists and for MSC4143 RTC transports (unsupported, as on
    // a Synapse without experimental features); every other request it made succeeded.
    const failed = (await server.admin.requestLog()).filter((entry) => entry.status >= 400 && !(entry.method === "POST" && entry.path.endsWith("/register")))
    const expected = new Set(["GET /_matrix/client/v3/room_keys/version 404", "GET /_matrix/client/unstable/org.matrix.msc4143/rtc/transports 404"])
    expect(failed.map((entry) => `${entry.method} ${entry.path} ${entry.status}`).filter((line) => !expected.has(line))).toEqual([])
  })

  it("restores around every kind of broken entry; only the good ones reach its store", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const { user, secretKey, crypto } = await bootstrap(server.url)
    const version = (await crypto.checkKeyBackupAndEnable())?.backupInfo.version ?? ""
    const backupKey = await crypto.getSessionBackupPrivateKey()
    if (backupKey === null) throw new Error("no backup key cached")
    const broken = brokenEntries(backupPublicKeyFromPrivate(backupKey))
    await seedBackup(server.admin, user.userId, { backupPrivateKey: backupKey, keys: generateRoomKeys(20), version, extraEntries: broken })
    const other = await secondDevice(server.url, user, secretKey)
    const restored = await other.restoreKeyBackup()
    const exported = new Set((await other.exportRoomKeys()).map((key) => key.session_id))
    // Only the good sessions are really in the store...
    expect(broken.filter((entry) => exported.has(entry.sessionId))).toEqual([])
    expect(exported.size).toBe(20)
    // ...but js-sdk counts as "imported" every entry whose plaintext is JSON, even ones its crypto
    // refuses (rust-crypto/backup.ts adds the decrypted chunk length): a quirk, not our server.
    const decryptsToJson = broken.filter((entry) => ["missingFields", "unknownAlgorithm", "invalidSessionKey"].includes(entry.kind))
    expect(restored).toEqual({ total: 20 + broken.length, imported: 20 + decryptsToJson.length })
  })

  it("sees a backup reset by another device as untrusted and not matching its key", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const { user, crypto } = await bootstrap(server.url)
    expect((await crypto.checkKeyBackupAndEnable())?.trustInfo.trusted).toBe(true)
    const version = await server.admin.resetBackupAsOtherDevice(user.userId)
    const check = await crypto.checkKeyBackupAndEnable()
    expect(check?.backupInfo.version).toBe(version)
    expect(check?.trustInfo).toEqual({ trusted: false, matchesDecryptionKey: false })
  })
})
