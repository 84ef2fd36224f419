// The Promise API as a matrix-js-sdk user writes it: adapter factories, strings and Uint8Arrays, no Effect import.
// Real loopback HTTP to the testkit server, a real SQLite file, IndexedDB from fake-indexeddb.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { IDBFactory, IDBKeyRange } from "fake-indexeddb"
import { createKeyBackupClient, CryptoEvent, decodeRecoveryKey, encodeRecoveryKey, memoryStore } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { indexedDbStore } from "@matrix-backup/store-indexeddb"
import { sqliteStore } from "@matrix-backup/store-sqlite"
import type { TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, generateRoomKeys } from "@matrix-backup/testkit"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()
const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Plain numbers (milliseconds) where the Effect API takes Durations. */
const fastUpload = { maxStartJitter: 0, backoffBase: 5, backoffMax: 40, rateLimitDefault: 10 }
const homeserverFor = (url: string, identity: TestIdentity) =>
  fetchHomeserver({ baseUrl: url, accessToken: identity.accessToken, userId: identity.userId, deviceId: identity.deviceId, retry: { baseDelayMs: 5, maxDelayMs: 20 } })

const start = async (options: Parameters<typeof createKeyBackupClient>[0]) => {
  const client = await createKeyBackupClient({ checkOnStart: false, uploadOptions: fastUpload, ...options })
  clients.push(client)
  return client
}

describe("plain factories for Promise users", () => {
  it("fetchHomeserver + sqliteStore + deviceSigningKey: a backup made, uploaded, and its key still there after a restart", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const dir = mkdtempSync(join(tmpdir(), "plain-factories-"))
    dirs.push(dir)
    const filename = join(dir, "keys.sqlite")
    const first = await start({ homeserver: homeserverFor(server.url, identity), store: sqliteStore({ filename }), deviceSigningKey: identity.deviceSigningSeed })
    await first.resetKeyBackup()
    await first.addRoomKeys(generateRoomKeys(30, { rooms: 3 }))
    await first.waitForBackupSteadyState()
    expect(await server.admin.roomKeys(identity.userId, "1")).toHaveLength(30)
    const key = await first.getSessionBackupPrivateKey()
    await first.stop()

    const again = await start({ homeserver: homeserverFor(server.url, identity), store: sqliteStore({ filename }), deviceSigningKey: identity.deviceSigningSeed })
    expect(await again.getSessionBackupPrivateKey()).toEqual(key)
    const check = await again.checkKeyBackupAndEnable()
    expect(check?.trustInfo).toEqual({ trusted: true, matchesDecryptionKey: true })
    expect(await again.restoreKeyBackup()).toMatchObject({ total: 30, imported: 30 })
  })

  it("indexedDbStore keeps the backup key across clients on the same database", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const store = () => indexedDbStore({ name: "keys", indexedDB: new IDBFactory(), IDBKeyRange })
    const indexedDB = new IDBFactory()
    const sameDb = () => indexedDbStore({ name: "keys", indexedDB, IDBKeyRange })
    const first = await start({ homeserver: homeserverFor(server.url, identity), store: sameDb(), deviceSigningKey: identity.deviceSigningSeed })
    await first.resetKeyBackup()
    const key = await first.getSessionBackupPrivateKey()
    expect(key).toHaveLength(32)
    await first.stop()
    const again = await start({ homeserver: homeserverFor(server.url, identity), store: sameDb(), deviceSigningKey: identity.deviceSigningSeed })
    expect(await again.getSessionBackupPrivateKey()).toEqual(key)
    const other = await start({ homeserver: homeserverFor(server.url, identity), store: store(), deviceSigningKey: identity.deviceSigningSeed })
    expect(await other.getSessionBackupPrivateKey()).toBeNull()
  })

  it("decodeRecoveryKey returns the key bytes and throws a typed error naming what is wrong, never the input", () => {
    const key = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const text = encodeRecoveryKey(key)
    expect(decodeRecoveryKey(text)).toEqual(key)
    expect(decodeRecoveryKey(text.replaceAll(" ", "\n"))).toEqual(key)
    const last = text.at(-1) === "a" ? "b" : "a"
    const typo = `${text.slice(0, -1)}${last}`
    const error = (() => {
      try {
        decodeRecoveryKey(typo)
        return undefined
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ name: "RecoveryKeyError", code: expect.stringMatching(/^(Parity|Base58|Length)$/) })
    expect(String(error)).not.toContain(typo.slice(0, 9))
    expect(() => decodeRecoveryKey("not a key 0OIl")).toThrow(expect.objectContaining({ code: "Base58" }))
  })

  it("getSecretStorageKey answering something other than key bytes rejects with InvalidKey saying what to answer", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const owner = await start({ homeserver: homeserverFor(server.url, identity), store: memoryStore(), deviceSigningKey: identity.deviceSigningSeed })
    let recoveryKey = ""
    await owner.bootstrapSecretStorage({
      createSecretStorageKey: async () => {
        const created = await owner.createRecoveryKeyFromPassphrase()
        recoveryKey = created.encodedPrivateKey ?? ""
        return created
      },
      setupNewKeyBackup: true,
    })
    // An app without types hands back the recovery key text instead of its bytes.
    const careless = await start({
      homeserver: homeserverFor(server.url, identity),
      store: memoryStore(),
      cryptoCallbacks: { getSecretStorageKey: async ({ keys }) => JSON.parse(JSON.stringify([Object.keys(keys)[0], recoveryKey])) },
    })
    const error: unknown = await careless.loadSessionBackupPrivateKeyFromSecretStorage().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: "SecretStorageError", code: "InvalidKey", message: expect.stringContaining("decodeRecoveryKey") })
    expect(String(error)).not.toContain(recoveryKey.slice(0, 9))
    // With decodeRecoveryKey the same callback works.
    const careful = await start({
      homeserver: homeserverFor(server.url, identity),
      store: memoryStore(),
      cryptoCallbacks: { getSecretStorageKey: async ({ keys }) => [Object.keys(keys)[0] ?? "", decodeRecoveryKey(recoveryKey)] },
    })
    await careful.loadSessionBackupPrivateKeyFromSecretStorage()
    expect(await careful.getSessionBackupPrivateKey()).toEqual(await owner.getSessionBackupPrivateKey())
  })

  it("bad identity options reject createKeyBackupClient with InvalidArgument", async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    await expect(
      createKeyBackupClient({ homeserver: homeserverFor(server.url, identity), store: memoryStore(), deviceSigningKey: new Uint8Array(31) }),
    ).rejects.toMatchObject({ name: "InvalidArgument", message: expect.stringContaining("32-byte") })
  })

  it("events arrive through on/off with the factory-built client", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const client = await start({ homeserver: homeserverFor(server.url, identity), store: memoryStore(), deviceSigningKey: identity.deviceSigningSeed })
    const seen: Array<string> = []
    client.on(CryptoEvent.KeyBackupStatus, (enabled) => seen.push(`status ${enabled}`))
    client.on(CryptoEvent.KeyBackupDecryptionKeyCached, (version) => seen.push(`cached ${version}`))
    await client.resetKeyBackup()
    await expect.poll(() => seen).toEqual(["status true", "cached 1"])
  })
})
