// resetKeyBackup's events in matrix-js-sdk 43's order: KeyBackupStatus(true) before KeyBackupDecryptionKeyCached,
// so a listener of the latter already sees the new version active. Checked against js-sdk itself.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { createKeyBackupClient, CryptoEvent, memoryStore } from "@matrix-backup/core"
import type { KeyBackupClient } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, registerUser, startFakeHomeserver } from "@matrix-backup/testkit"
import { startJsSdkClient, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { CryptoEvent as JsCryptoEvent } from "matrix-js-sdk/lib/crypto-api/index.js"

let server: RunningFakeHomeserver | undefined
let ours: KeyBackupClient.KeyBackupClient | undefined
afterEach(async () => {
  stopAllJsSdkClients()
  await ours?.stop()
  await server?.stop()
})

describe("resetKeyBackup's events", () => {
  it("come in matrix-js-sdk 43's order, and the new version is active when the key-cached listener runs", { timeout: 60_000 }, async () => {
    server = await startFakeHomeserver()
    const jsUser = await registerUser(server.url)
    const js = await startJsSdkClient(server.url, jsUser, { sync: false })
    const theirs: Array<string> = []
    js.client.on(JsCryptoEvent.KeyBackupStatus, (enabled) => theirs.push(`status ${enabled}`))
    js.client.on(JsCryptoEvent.KeyBackupDecryptionKeyCached, () => theirs.push("cached"))
    await js.crypto.resetKeyBackup()

    const identity = await createUserWithCrossSigning(server.url)
    const client = await createKeyBackupClient({
      homeserver: fetchHomeserver({ baseUrl: server.url, accessToken: identity.accessToken, userId: identity.userId, deviceId: identity.deviceId }),
      store: memoryStore(),
      deviceSigningKey: identity.deviceSigningSeed,
      checkOnStart: false,
    })
    ours = client
    const seen: Array<string> = []
    const activeWhenCached: Array<Promise<string | null>> = []
    client.on(CryptoEvent.KeyBackupStatus, (enabled) => seen.push(`status ${enabled}`))
    client.on(CryptoEvent.KeyBackupDecryptionKeyCached, () => {
      seen.push("cached")
      activeWhenCached.push(client.getActiveSessionBackupVersion())
    })
    await client.resetKeyBackup()
    await expect.poll(() => seen.length).toBe(2)

    expect(theirs).toEqual(["status true", "cached"])
    expect(seen).toEqual(theirs)
    expect(await Promise.all(activeWhenCached)).toEqual(["1"])
  })
})
