// Secret Storage status through the Promise facade: bootstrapSecretStorage stores the cross-signing keys the app gives
// (js-sdk's CrossSigningKeyExport), getSecretStorageStatus says exactly what is stored (and matrix-js-sdk 43 on a
// second device says the same), and the recovery state with its change event follows.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { ClientEvent, createKeyBackupClient, memoryStore } from "@matrix-backup/core"
import type { KeyBackupClient } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import type { TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, loginNewDevice } from "@matrix-backup/testkit"
import { startJsSdkClient, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()
afterEach(stopAllJsSdkClients)

const unpadded = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, "")

/** Our client whose 4S prompt answers with `key()`; a passphrase-free recovery key is made on bootstrap. */
const ourClient = async (url: string, identity: TestIdentity, key: () => Uint8Array | null) => {
  const client = await createKeyBackupClient({
    homeserver: fetchHomeserver({ baseUrl: url, accessToken: identity.accessToken, userId: identity.userId, deviceId: identity.deviceId }),
    store: memoryStore(),
    deviceSigningKey: identity.deviceSigningSeed,
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        const answer = key()
        const keyId = Object.keys(keys)[0]
        return answer === null || keyId === undefined ? null : [keyId, answer]
      },
    },
    uploadOptions: { maxStartJitter: 0 },
    checkOnStart: false,
  })
  clients.push(client)
  return client
}

const statusOf = (defaultKeyId: string | null, stored: { readonly crossSigning: boolean; readonly backup?: boolean }) => ({
  ready: stored.crossSigning && stored.backup !== false,
  defaultKeyId,
  secretStorageKeyValidityMap: {
    "m.cross_signing.master": stored.crossSigning,
    "m.cross_signing.user_signing": stored.crossSigning,
    "m.cross_signing.self_signing": stored.crossSigning,
    ...(stored.backup === undefined ? {} : { "m.megolm_backup.v1": stored.backup }),
  },
})

describe("getSecretStorageStatus after bootstrapSecretStorage", () => {
  it("reports the cross-signing keys missing until given, then stored (readable by js-sdk 43, whose status agrees)", { timeout: 120_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    let recoveryKey: Uint8Array | null = null
    const client = await ourClient(server.url, identity, () => recoveryKey)
    expect(await client.getSecretStorageStatus()).toEqual(statusOf(null, { crossSigning: false }))

    await client.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const created = await client.createRecoveryKeyFromPassphrase()
        recoveryKey = created.privateKey
        return created
      },
      setupNewKeyBackup: true,
    })
    const keyId = await client.secretStorage.getDefaultKeyId()
    expect(keyId).toMatch(/.+/)
    expect(await client.getSecretStorageStatus()).toEqual(statusOf(keyId, { crossSigning: false, backup: true }))

    // matrix-js-sdk 43 on a second device (backup key from 4S, backup enabled) sees the same.
    const device = await loginNewDevice(server.url, identity)
    const js = await startJsSdkClient(server.url, device, { sync: false, getSecretStorageKey: () => recoveryKey })
    await js.crypto.loadSessionBackupPrivateKeyFromSecretStorage()
    await js.crypto.checkKeyBackupAndEnable()
    expect(await js.crypto.getSecretStorageStatus()).toEqual(await client.getSecretStorageStatus())

    const crossSigningKeys = {
      masterKey: unpadded(identity.masterSeed),
      self_signing_key: unpadded(identity.selfSigningSeed),
      userSigningKey: unpadded(identity.userSigningSeed),
    }
    await client.bootstrapSecretStorage({ crossSigningKeys })
    expect(await client.getSecretStorageStatus()).toEqual(statusOf(keyId, { crossSigning: true, backup: true }))
    expect(await client.isSecretStorageReady()).toBe(true)
    expect(await client.secretStorage.get("m.cross_signing.master")).toBe(crossSigningKeys.masterKey)
    expect(await js.crypto.getSecretStorageStatus()).toEqual(await client.getSecretStorageStatus())
    expect((await js.crypto.getCrossSigningStatus()).privateKeysInSecretStorage).toBe(true)
    expect(await js.client.secretStorage.get("m.cross_signing.self_signing")).toBe(crossSigningKeys.self_signing_key)
    expect(await js.client.secretStorage.get("m.cross_signing.user_signing")).toBe(crossSigningKeys.userSigningKey)
  })

  it("refuses malformed cross-signing keys before writing anything", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const client = await ourClient(server.url, identity, () => null)
    const secret = unpadded(identity.masterSeed)
    const error: unknown = await client
      .bootstrapSecretStorage({
        createSecretStorageKey: () => client.createRecoveryKeyFromPassphrase(),
        crossSigningKeys: { masterKey: secret, self_signing_key: "AAAA", userSigningKey: secret },
      })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: "RecoveryError", code: "InvalidCrossSigningKeys", message: expect.stringContaining("m.cross_signing.self_signing") })
    expect(String(error)).not.toContain(secret.slice(0, 10))
    expect(await server.admin.accountData(identity.userId, "m.secret_storage.default_key")).toBeUndefined()
  })
})

describe("getRecoveryState and its change event", () => {
  it("goes from NoSecretStorage to Ready with the key IDs, and listeners (on, once) hear it", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    let recoveryKey: Uint8Array | null = null
    const client = await ourClient(server.url, identity, () => recoveryKey)
    expect(await client.getRecoveryState()).toEqual({ state: "NotReady", reason: "NoSecretStorage" })
    const seen: Array<KeyBackupClient.RecoveryStateJs> = []
    const first: Array<KeyBackupClient.RecoveryStateJs> = []
    client.on(ClientEvent.RecoveryStateChanged, (state) => seen.push(state))
    client.once(ClientEvent.RecoveryStateChanged, (state) => first.push(state))
    await expect.poll(() => seen).toEqual([{ state: "NotReady", reason: "NoSecretStorage" }])

    await client.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const created = await client.createRecoveryKeyFromPassphrase()
        recoveryKey = created.privateKey
        return created
      },
      setupNewKeyBackup: true,
    })
    const defaultKeyId = (await client.secretStorage.getDefaultKeyId()) ?? ""
    const ready = { state: "Ready", defaultKeyId, backupVersion: "1" }
    expect(await client.getRecoveryState()).toEqual(ready)
    await expect.poll(() => seen.at(-1)).toEqual(ready)
    expect(first).toEqual([{ state: "NotReady", reason: "NoSecretStorage" }])
  })
})
