// The bridge with real peers: matrix-js-sdk 43 devices (Rust crypto) restore through it from the fake homeserver.
// Keys land in the device's crypto as backed up (never uploaded again), corrupt entries are counted by reason, a wrong
// key fails typed with nothing imported, and an aborted restore says what it had imported.
import { afterEach, describe, expect, it } from "vitest"
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { backupPublicKeyFromPrivate, brokenEntries, BROKEN_KINDS, generateRoomKeys, seedBackup } from "@matrix-backup/testkit"
import { bootstrapJsSdkBackup, jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { randomBytes } from "node:crypto"
import { restoreKeyBackup, RestoreKeyBackupError } from "../src/index.js"
import { comparable, deviceWithKey, deviceWithoutKey, olmMachine, roomKeyCounts, seeded, serverWithUser, uploadsSince, offThread, WORKER_ENTRY } from "./support.js"

let server: RunningFakeHomeserver | undefined
afterEach(async () => {
  stopAllJsSdkClients()
  await server?.stop()
  server = undefined
})

// The restore on its worker thread (the default in Node), decrypting on two more.
const threads = { ...offThread(2), workerEntry: WORKER_ENTRY }

describe("restoreKeyBackup(client) through the bridge", () => {
  it("a second device restores every key; its crypto counts them backed up, exports them unchanged and uploads none", { timeout: 120_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const first = await bootstrapJsSdkBackup(server.url, made.user)
    const key = await first.crypto.getSessionBackupPrivateKey()
    const version = await first.crypto.getActiveSessionBackupVersion()
    if (key === null || version === null) throw new Error("the first device has no backup")
    const originals = generateRoomKeys(450, { rooms: 6 })
    await seedBackup(server, made.user.userId, { backupPrivateKey: key, keys: originals, version })

    const second = await jsSdkSecondDevice(server.url, made.user, { getSecretStorageKey: first.secretKey, sync: false })
    const logBefore = (await server.admin.requestLog()).length
    const progress: Array<string> = []
    const result = await restoreKeyBackup(second.client, {
      ...threads,
      progressCallback: (p) => progress.push(p.stage === "fetch" ? "fetch" : `${p.successes}/${p.total}`),
    })

    expect(result).toMatchObject({ total: 450, imported: 450, failed: [] })
    expect(progress[0]).toBe("fetch")
    expect(progress.at(-1)).toBe("450/450")
    expect(comparable(await second.crypto.exportRoomKeys())).toEqual(comparable(originals))
    // The machine counts keys backed up to its active version: enable the backup on this device first.
    await second.crypto.checkKeyBackupAndEnable()
    expect(await second.crypto.getActiveSessionBackupVersion()).toBe(version)
    expect(await roomKeyCounts(second)).toEqual({ total: 450, backedUp: 450 })
    // So its crypto has nothing to upload, and uploaded nothing.
    expect(await olmMachine(second).backupRoomKeys()).toBeUndefined()
    expect(await uploadsSince(server, logBefore)).toEqual([])
  })

  it.each([
    { where: "on the calling thread", opts: { offThread: false, decryptionThreads: 0 } },
    { where: "on its worker thread", opts: { ...offThread(1), workerEntry: WORKER_ENTRY } },
  ])("skips corrupt entries, counts them by reason and reports each one; every good key is imported ($where)", { timeout: 60_000 }, async ({ opts }) => {
    const made = await serverWithUser()
    server = made.server
    const privateKey = new Uint8Array(randomBytes(32))
    const broken = brokenEntries(backupPublicKeyFromPrivate(privateKey))
    const keys = generateRoomKeys(120, { rooms: 2 })
    const { version } = await seedBackup(server, made.user.userId, { backupPrivateKey: privateKey, keys, extraEntries: broken })
    const device = await deviceWithKey(server, made.user, privateKey, version)
    const seen: Array<string> = []
    const result = await restoreKeyBackup(device.client, { ...opts, onFailure: (f) => seen.push(f.sessionId) })

    expect(result.total).toBe(120 + BROKEN_KINDS.length)
    expect(result.imported).toBe(120)
    expect(result.failures).toMatchObject({
      BadMac: 2,
      BadPadding: 1,
      MalformedPlaintext: 1,
      MissingFields: 1,
      UnknownAlgorithm: 1,
      InvalidSessionKey: 1,
      MalformedSessionData: 1,
      MalformedEntry: 1,
      StoreFailure: 0,
    })
    expect(seen.sort()).toEqual(broken.map((b) => b.sessionId).sort())
    expect(result.failed.map((f) => f.sessionId).sort()).toEqual(seen)
    expect(comparable(await device.crypto.exportRoomKeys())).toEqual(comparable(keys))
  })

  it("a key that does not match the server's backup fails with DecryptionKeyDoesNotMatch: nothing downloaded or imported", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const { version } = await seeded(server, made.user, 30)
    const device = await deviceWithKey(server, made.user, new Uint8Array(randomBytes(32)), version)
    const logBefore = (await server.admin.requestLog()).length
    const error = await restoreKeyBackup(device.client, threads).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(RestoreKeyBackupError)
    expect(error).toMatchObject({ reason: "DecryptionKeyDoesNotMatch", imported: 0, version })
    expect((await server.admin.requestLog()).slice(logBefore).filter((e) => e.path.includes("/room_keys/keys"))).toEqual([])
    expect(await device.crypto.exportRoomKeys()).toEqual([])
  })

  it("a client whose crypto holds no backup key fails with NoDecryptionKey", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    await seeded(server, made.user, 5)
    const bare = await deviceWithoutKey(server, made.user)
    await expect(restoreKeyBackup(bare.client)).rejects.toMatchObject({ name: "RestoreKeyBackupError", reason: "NoDecryptionKey", imported: 0 })
  })

  it("control: keys imported with importRoomKeys instead are not backed up, and the machine would upload them", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const { privateKey, version, keys } = await seeded(server, made.user, 40)
    const device = await deviceWithKey(server, made.user, privateKey, version)
    await device.crypto.importRoomKeys(keys.map((k) => ({ ...k, forwarding_curve25519_key_chain: [...k.forwarding_curve25519_key_chain] })))
    await device.crypto.checkKeyBackupAndEnable()
    expect(await roomKeyCounts(device)).toEqual({ total: 40, backedUp: 0 })
    expect(await olmMachine(device).backupRoomKeys()).toBeDefined()
  })

  it("an aborted restore stops and reports exactly what the client's crypto had imported", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const { privateKey, version } = await seeded(server, made.user, 1200)
    const device = await deviceWithKey(server, made.user, privateKey, version)
    const controller = new AbortController()
    const error = await restoreKeyBackup(device.client, {
      ...threads,
      batchSize: 200,
      signal: controller.signal,
      progressCallback: (p) => {
        if (p.stage === "load_keys" && p.successes >= 200) controller.abort()
      },
    }).catch((e: unknown) => e)

    expect(error).toMatchObject({ reason: "Aborted" })
    if (!(error instanceof RestoreKeyBackupError)) throw error
    expect(error.imported).toBeGreaterThanOrEqual(200)
    expect(error.imported).toBeLessThan(1200)
    await device.crypto.checkKeyBackupAndEnable()
    expect(await roomKeyCounts(device)).toEqual({ total: error.imported, backedUp: error.imported })
  })
})
