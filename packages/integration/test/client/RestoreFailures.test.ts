// The Promise facade's restore reports each skipped key while it runs (onFailure) and lists them in its result.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { backupPublicKeyFromPrivate, brokenEntries, createUserWithCrossSigning, generateRoomKeys, seedBackup, startFakeHomeserver } from "@matrix-backup/testkit"
import { BackupStore, Ids, KeyBackupClient } from "@matrix-backup/core"
import { FAST_RETRY } from "../support/Harness.js"

let server: RunningFakeHomeserver | undefined
let client: KeyBackupClient.KeyBackupClient | undefined
afterEach(async () => {
  await client?.stop()
  await server?.stop()
})

describe("KeyBackupClient.restoreKeyBackup with corrupt entries", () => {
  it("calls onFailure for each skipped key as the restore runs and lists them in the result", { timeout: 60_000 }, async () => {
    server = await startFakeHomeserver()
    const identity = await createUserWithCrossSigning(server.url)
    client = await KeyBackupClient.createKeyBackupClient({
      homeserver: FetchHomeserverApi.layerFetch({
        baseUrl: server.url,
        accessToken: Redacted.make(identity.accessToken),
        userId: Ids.UserId.make(identity.userId),
        retry: FAST_RETRY,
      }),
      store: BackupStore.layerMemory,
      deviceKeys: { userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)) },
      checkOnStart: false,
    })
    const privateKey = new Uint8Array(randomBytes(32))
    const broken = brokenEntries(backupPublicKeyFromPrivate(privateKey), ["badMac", "notJson", "sessionDataNotObject"])
    const { version } = await seedBackup(server, identity.userId, { backupPrivateKey: privateKey, keys: generateRoomKeys(50), extraEntries: broken })
    await client.storeSessionBackupPrivateKey(privateKey, version)

    const seen: Array<{ readonly sessionId: string; readonly reason: string; readonly version: string }> = []
    const result = await client.restoreKeyBackup({ onFailure: ({ sessionId, reason, version: v }) => seen.push({ sessionId, reason, version: v }) })

    expect(result).toMatchObject({ total: 53, imported: 50 })
    const expected = broken.map((b, i) => ({ sessionId: b.sessionId, reason: ["BadMac", "MalformedPlaintext", "MalformedEntry"][i], version }))
    const bySession = (a: { readonly sessionId: string }, b: { readonly sessionId: string }) => a.sessionId.localeCompare(b.sessionId)
    expect([...seen].sort(bySession)).toEqual([...expected].sort(bySession))
    expect(result.failed.map(({ sessionId, reason }) => ({ sessionId, reason, version })).sort(bySession)).toEqual([...expected].sort(bySession))
  })
})
