// The reference guide's key-backup sections, run through the Promise facade against the fake homeserver over
// loopback HTTP. The app code is the guide's, adapted only in imports and in creating the client.
import { describe, expect, it } from "@effect/vitest"
import { Either, Layer, Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, generateRoomKeys, loginNewDevice } from "@matrix-backup/testkit"
import { BackupStore, Ids, KeyBackupClient, RecoveryKey } from "@matrix-backup/core"
import { FAST_RETRY, FAST_UPLOAD } from "../support/Harness.js"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()

/** "Create the client": our three ports in place of js-sdk's baseUrl/accessToken/userId. */
const makeClient = async (
  url: string,
  device: { readonly userId: string; readonly deviceId: string; readonly accessToken: string },
  seeds: { readonly deviceSeed: Uint8Array; readonly masterSeed?: Uint8Array },
  cryptoCallbacks?: Parameters<typeof KeyBackupClient.createKeyBackupClient>[0]["cryptoCallbacks"],
  checkOnStart = true,
) => {
  const client = await KeyBackupClient.createKeyBackupClient({
    homeserver: FetchHomeserverApi.layerFetch({ baseUrl: url, accessToken: Redacted.make(device.accessToken), userId: Ids.UserId.make(device.userId), retry: FAST_RETRY }),
    store: BackupStore.layerMemory,
    deviceKeys: {
      userId: device.userId,
      deviceId: device.deviceId,
      deviceSeed: Redacted.make(Uint8Array.from(seeds.deviceSeed)),
      ...(seeds.masterSeed === undefined ? {} : { masterSeed: Redacted.make(Uint8Array.from(seeds.masterSeed)) }),
    },
    ...(cryptoCallbacks === undefined ? {} : { cryptoCallbacks }),
    uploadOptions: FAST_UPLOAD,
    recoveryOptions: { passphraseIterations: 1000 },
    checkOnStart,
  })
  clients.push(client)
  return client
}

const exportedKeys = (n: number) => generateRoomKeys(n, { rooms: 4 })

describe("the reference guide through the Promise facade", () => {
  it("sections before the complete flow: check (null), create, events, active version, trust, restore", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity: TestIdentity = await createUserWithCrossSigning(server.url)
    const crypto = await makeClient(server.url, identity, { deviceSeed: identity.deviceSigningSeed })
    const log: Array<string> = []
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupStatus, (enabled) => log.push(`status ${enabled}`))
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupFailed, (errorCode) => log.push(`failed ${errorCode}`))
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupSessionsRemaining, (remaining) => log.push(`remaining ${remaining}`))
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupDecryptionKeyCached, (version) => log.push(`cached ${version}`))

    // "Checking and enabling an existing backup"
    const check = await crypto.checkKeyBackupAndEnable()
    expect(check).toBeNull()

    // "Creating a new backup"
    const hasKeyBackup = (await crypto.checkKeyBackupAndEnable()) !== null
    if (!hasKeyBackup) await crypto.resetKeyBackup()

    await crypto.addRoomKeys(exportedKeys(130))
    await crypto.waitForBackupSteadyState()

    // "Checking the active backup version"
    const version = await crypto.getActiveSessionBackupVersion()
    expect(version).toBe("1")

    // "Determining backup trust"
    const backupInfo = await crypto.getKeyBackupInfo()
    expect(backupInfo).toMatchObject({ algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", version: "1" })
    if (backupInfo === null) throw new Error("no backup info")
    const trustInfo = await crypto.isKeyBackupTrusted(backupInfo)
    expect({ trusted: trustInfo.trusted, matchesDecryptionKey: trustInfo.matchesDecryptionKey }).toEqual({ trusted: true, matchesDecryptionKey: true })

    // "Key backup events"
    expect(log).toEqual(expect.arrayContaining(["cached 1", "status true", "remaining 0"]))
    expect(log.filter((line) => line.startsWith("failed"))).toEqual([])
    expect((await server.admin.roomKeys(identity.userId, "1")).length).toBe(130)

    // "Restoring the full backup" (the key was cached by resetKeyBackup)
    const progress: Array<string> = []
    const result = await crypto.restoreKeyBackup({
      progressCallback: (p) => progress.push(p.stage === "load_keys" ? `${p.successes}/${p.total}` : p.stage),
    })
    expect(result).toMatchObject({ total: 130, imported: 130 })
    expect(progress[0]).toBe("fetch")
    expect(progress.at(-1)).toBe("130/130")
  })

  it("complete key backup setup flow, then restore on a new device", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const url = server.url
    const identity = await createUserWithCrossSigning(url)
    let shownRecoveryKey: string | undefined
    const showRecoveryKeyToUser = async (encoded: string | undefined) => void (shownRecoveryKey = encoded)
    const promptUserForRecoveryKey = async (): Promise<Uint8Array> => Either.getOrThrow(RecoveryKey.decodeRecoveryKey(shownRecoveryKey ?? ""))

    // 1. Create the client with cryptoCallbacks
    const cryptoCallbacks = {
      getSecretStorageKey: async ({ keys }: { keys: Record<string, unknown> }): Promise<[string, Uint8Array] | null> => {
        const key = await promptUserForRecoveryKey()
        const keyId = Object.keys(keys)[0]
        return keyId === undefined ? null : [keyId, key]
      },
    }
    const crypto = await makeClient(url, identity, { deviceSeed: identity.deviceSigningSeed, masterSeed: identity.masterSeed }, cryptoCallbacks)

    // 2. Initialize encryption and secret storage
    await crypto.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const key = await crypto.createRecoveryKeyFromPassphrase()
        await showRecoveryKeyToUser(key.encodedPrivateKey)
        return key
      },
    })
    expect(shownRecoveryKey).toMatch(/^E[sSt][a-zA-Z0-9]{2}( [a-zA-Z0-9]{4}){11}$/)

    // 3. Check for an existing backup and create one if needed
    const check = await crypto.checkKeyBackupAndEnable()
    if (check === null) {
      await crypto.resetKeyBackup()
    } else {
      throw new Error(`unexpected existing backup ${check.backupInfo.version}`)
    }
    expect(await server.admin.accountData(identity.userId, "m.megolm_backup.v1")).toMatchObject({ encrypted: expect.any(Object) })

    // 4. Listen for backup events
    const statuses: Array<boolean> = []
    const errors: Array<string> = []
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupStatus, (enabled) => statuses.push(enabled))
    crypto.on(KeyBackupClient.CryptoEvent.KeyBackupFailed, (errorCode) => errors.push(errorCode))

    const keys = exportedKeys(240)
    await crypto.addRoomKeys(keys)
    await crypto.waitForBackupSteadyState()
    const version = await crypto.getActiveSessionBackupVersion()
    expect(version).not.toBeNull()
    expect((await server.admin.roomKeys(identity.userId, version ?? "")).length).toBe(240)
    expect(errors).toEqual([])

    // 5. Restore keys on a new device
    const second = await loginNewDevice(url, identity)
    const newDevice = await makeClient(url, second, { deviceSeed: globalThis.crypto.getRandomValues(new Uint8Array(32)) }, cryptoCallbacks)
    await newDevice.loadSessionBackupPrivateKeyFromSecretStorage()
    const seen: Array<number> = []
    const result = await newDevice.restoreKeyBackup({
      progressCallback: (progress) => {
        if (progress.stage === "load_keys") seen.push(progress.successes)
      },
    })
    expect(result).toMatchObject({ total: 240, imported: 240 })
    expect(seen.at(-1)).toBe(240)
    // The new device now trusts the backup through the key from 4S and uploads to it.
    const check2 = await newDevice.checkKeyBackupAndEnable()
    expect(check2?.trustInfo.matchesDecryptionKey).toBe(true)
    expect(await newDevice.getActiveSessionBackupVersion()).toBe(version)
    // Restored keys are marked backed up to that version: nothing is pending, nothing is sent again.
    await newDevice.waitForBackupSteadyState()
    const puts = (await server.admin.requestLog()).filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys"))
    expect(puts.length).toBe(3)
  })

  it("secretStorage accessor, backup key accessors, isSecretStorageReady and disableKeyStorage", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    let recoveryKey: Uint8Array | null = null
    const crypto = await makeClient(
      server.url,
      identity,
      { deviceSeed: identity.deviceSigningSeed, masterSeed: identity.masterSeed },
      { getSecretStorageKey: async ({ keys }) => (recoveryKey === null ? null : [Object.keys(keys)[0] ?? "", recoveryKey]) },
    )
    await crypto.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const key = await crypto.createRecoveryKeyFromPassphrase("correct horse battery staple")
        recoveryKey = key.privateKey
        expect(key.keyInfo?.passphrase).toMatchObject({ algorithm: "m.pbkdf2", iterations: 1000 })
        return key
      },
      setupNewKeyBackup: true,
    })
    const keyId = await crypto.secretStorage.getDefaultKeyId()
    expect(keyId).not.toBeNull()
    expect(await crypto.secretStorage.hasKey()).toBe(true)
    expect(await crypto.secretStorage.hasKey("nope")).toBe(false)
    const keyInfo = Object((await server.admin.accountData(identity.userId, `m.secret_storage.key.${keyId}`)) ?? {})
    expect(await crypto.secretStorage.checkKey(recoveryKey ?? new Uint8Array(32), keyInfo)).toBe(true)
    expect(await crypto.secretStorage.checkKey(new Uint8Array(32), keyInfo)).toBe(false)
    // The backup key in 4S is the one the engine cached (unpadded base64 of the 32 bytes).
    const cached = await crypto.getSessionBackupPrivateKey()
    const inSecretStorage = await crypto.secretStorage.get("m.megolm_backup.v1")
    expect(inSecretStorage).toBe(Buffer.from(cached ?? []).toString("base64").replace(/=+$/, ""))
    await crypto.secretStorage.store("org.example.secret", "hello")
    expect(await crypto.secretStorage.get("org.example.secret")).toBe("hello")
    await crypto.storeSessionBackupPrivateKey(cached ?? new Uint8Array(32), "1")
    await expect(crypto.storeSessionBackupPrivateKey(new Uint8Array(32), "")).rejects.toMatchObject({ code: "InvalidArgument" })
    // Not ready until the cross-signing keys are in 4S too (js-sdk's rule); the app hands them over.
    expect(await crypto.isSecretStorageReady()).toBe(false)
    const unpadded = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, "")
    await crypto.bootstrapSecretStorage({
      crossSigningKeys: { masterKey: unpadded(identity.masterSeed), self_signing_key: unpadded(identity.selfSigningSeed), userSigningKey: unpadded(identity.userSigningSeed) },
    })
    expect(await crypto.isSecretStorageReady()).toBe(true)
    await crypto.disableKeyStorage()
    expect(await crypto.getActiveSessionBackupVersion()).toBeNull()
    expect(await crypto.checkKeyBackupAndEnable()).toBeNull()
  })

  it("a client started where a trusted backup exists finds it in the background and uploads new keys", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const first = await makeClient(server.url, identity, { deviceSeed: identity.deviceSigningSeed })
    await first.resetKeyBackup()
    await first.stop()
    // A restart of the app: fresh memory store, same device; no explicit check is called.
    const again = await makeClient(server.url, identity, { deviceSeed: identity.deviceSigningSeed })
    // Exports without first_known_index: the index comes from the session export itself.
    await again.addRoomKeys(generateRoomKeys(25, { firstKnownIndex: 3 }))
    await again.waitForBackupSteadyState()
    expect(await again.getActiveSessionBackupVersion()).toBe("1")
    const stored = await server.admin.roomKeys(identity.userId, "1")
    expect(stored.map((s) => s.data.first_message_index)).toEqual(Array(25).fill(3))
  })

  it("the pure @noble backend gives the same result through the facade", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const crypto = await KeyBackupClient.createKeyBackupClient({
      homeserver: FetchHomeserverApi.layerFetch({ baseUrl: server.url, accessToken: Redacted.make(identity.accessToken), userId: Ids.UserId.make(identity.userId), retry: FAST_RETRY }),
      store: BackupStore.layerMemory,
      deviceKeys: { userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)) },
      crypto: "noble",
      uploadOptions: { ...FAST_UPLOAD, batchSize: 7 },
    })
    clients.push(crypto)
    await crypto.resetKeyBackup()
    await crypto.addRoomKeys(exportedKeys(20))
    await crypto.waitForBackupSteadyState()
    const puts = (await server.admin.requestLog()).filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys") && e.status === 200)
    expect(puts).toHaveLength(3)
    expect(await crypto.restoreKeyBackup()).toMatchObject({ total: 20, imported: 20 })
  })

  it("errors reject as KeyBackupClientError with a code and no secrets; bad input is refused before any request", async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const crypto = await makeClient(server.url, identity, { deviceSeed: identity.deviceSigningSeed }, undefined, false)
    const secret = generateRoomKeys(1)[0]
    const bad = { ...secret, session_key: 42 }
    const error = await crypto.addRoomKeys([bad]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ name: "InvalidRoomKey", code: "InvalidRoomKey" })
    expect(String(error)).not.toContain(secret?.sender_key ?? "x")
    await expect(crypto.addRoomKeys([{ ...secret, session_key: "AAAA" }])).rejects.toMatchObject({ name: "InvalidRoomKey", message: expect.stringContaining("Version") })
    await expect(crypto.waitForBackupSteadyState()).rejects.toMatchObject({ name: "SteadyStateError", code: "Unknown" })
    await expect(crypto.deleteKeyBackupVersion("7")).rejects.toMatchObject({ name: "EngineError", code: "NotFound", errcode: "M_NOT_FOUND" })
    await crypto.stop()
    await expect(crypto.getActiveSessionBackupVersion()).rejects.toBeInstanceOf(Error)
  })

  it("a store layer that fails to build rejects createKeyBackupClient", async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const failing = Layer.fail(new BackupStore.StorageError({ reason: "Open", message: "cannot open" }))
    await expect(
      KeyBackupClient.createKeyBackupClient({
        homeserver: FetchHomeserverApi.layerFetch({ baseUrl: server.url, accessToken: Redacted.make(identity.accessToken), userId: Ids.UserId.make(identity.userId) }),
        store: failing,
        deviceKeys: { userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)) },
      }),
    ).rejects.toMatchObject({ name: "StorageError", code: "Open" })
  })
})
