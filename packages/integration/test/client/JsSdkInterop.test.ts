// Interop: matrix-js-sdk 43 (rust crypto) restores every key our engine uploaded, with the backup key taken from
// our 4S (as a new Element device would) or handed over directly (storeSessionBackupPrivateKey).
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Either, Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, generateRoomKeys, loginNewDevice, startFakeHomeserver } from "@matrix-backup/testkit"
import { jsSdkSecondDevice, startJsSdkClient, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { BackupStore, Ids, KeyBackupClient, RecoveryKey } from "@matrix-backup/core"
import { FAST_RETRY, FAST_UPLOAD } from "../support/Harness.js"

let server: RunningFakeHomeserver | undefined
const ours: Array<KeyBackupClient.KeyBackupClient> = []
afterEach(async () => {
  stopAllJsSdkClients()
  for (const client of ours.splice(0)) await client.stop()
  await server?.stop()
})

/** Our engine, on the first device: 4S bootstrapped with a recovery key, a new backup, `count` keys uploaded. */
const uploadWithOurEngine = async (count: number) => {
  server = await startFakeHomeserver()
  const url = server.url
  const identity = await createUserWithCrossSigning(url)
  const client = await KeyBackupClient.createKeyBackupClient({
    homeserver: FetchHomeserverApi.layerFetch({ baseUrl: url, accessToken: Redacted.make(identity.accessToken), userId: Ids.UserId.make(identity.userId), retry: FAST_RETRY }),
    store: BackupStore.layerMemory,
    deviceKeys: {
      userId: identity.userId,
      deviceId: identity.deviceId,
      deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)),
      masterSeed: Redacted.make(Uint8Array.from(identity.masterSeed)),
    },
    uploadOptions: FAST_UPLOAD,
    recoveryOptions: { passphraseIterations: 1000 },
  })
  ours.push(client)
  let recoveryKey: Uint8Array | null = null
  await client.bootstrapSecretStorage({
    createSecretStorageKey: async () => {
      const key = await client.createRecoveryKeyFromPassphrase()
      recoveryKey = Either.getOrThrow(RecoveryKey.decodeRecoveryKey(key.encodedPrivateKey ?? ""))
      return key
    },
    setupNewKeyBackup: true,
  })
  await client.addRoomKeys(generateRoomKeys(count, { rooms: 9 }), { imported: false })
  await client.waitForBackupSteadyState()
  const version = await client.getActiveSessionBackupVersion()
  if (version === null) throw new Error("no active backup")
  expect(await server.admin.roomKeys(identity.userId, version)).toHaveLength(count)
  return { url, identity, client, version, recoveryKey: () => recoveryKey }
}

describe("interop: matrix-js-sdk 43 restores what our engine uploaded", () => {
  it("with the backup key loaded from our secret storage", { timeout: 120_000 }, async () => {
    const { url, identity, version, recoveryKey } = await uploadWithOurEngine(333)
    const { crypto } = await jsSdkSecondDevice(url, identity, { getSecretStorageKey: recoveryKey, sync: false })
    const progress: Array<number> = []
    const result = await crypto.restoreKeyBackup({
      progressCallback: (p) => {
        if (p.stage === "load_keys") progress.push(p.successes)
      },
    })
    expect(result.total).toBe(333)
    expect(result.imported).toBe(result.total)
    expect(progress.at(-1)).toBe(333)
    const info = await crypto.getKeyBackupInfo()
    expect(info?.version).toBe(version)
  })

  it("with the backup key handed over by storeSessionBackupPrivateKey", { timeout: 120_000 }, async () => {
    const { url, identity, client, version } = await uploadWithOurEngine(150)
    const key = await client.getSessionBackupPrivateKey()
    if (key === null) throw new Error("no backup key")
    const device = await loginNewDevice(url, identity)
    const { crypto } = await startJsSdkClient(url, device, { sync: false })
    await crypto.storeSessionBackupPrivateKey(Uint8Array.from(key), version)
    const result = await crypto.restoreKeyBackup()
    expect(result).toMatchObject({ total: 150, imported: 150 })
  })
})
