// exportRoomKeys / importRoomKeys (and their AsJson forms) through the Promise facade, checked against matrix-js-sdk 43:
// js-sdk imports what we export and exports the same sessions, and we import what js-sdk exports.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { createKeyBackupClient, memoryStore } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import type { TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, generateRoomKeys, loginNewDevice } from "@matrix-backup/testkit"
import { startJsSdkClient, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { startedPerTest } from "../support/StartedPerTest.js"

const { clients, startServer } = startedPerTest()
afterEach(stopAllJsSdkClients)

const ourClient = async (url: string, identity: TestIdentity) => {
  const client = await createKeyBackupClient({
    homeserver: fetchHomeserver({ baseUrl: url, accessToken: identity.accessToken, userId: identity.userId, deviceId: identity.deviceId, retry: { baseDelayMs: 5 } }),
    store: memoryStore(),
    deviceSigningKey: identity.deviceSigningSeed,
    uploadOptions: { maxStartJitter: 0, backoffBase: 5, backoffMax: 40 },
    checkOnStart: false,
  })
  clients.push(client)
  return client
}

/** The fields that identify a session and its key, sorted by session. */
interface SessionEntry {
  readonly room_id: string
  readonly session_id: string
  readonly session_key: string
  readonly sender_key: string
  readonly sender_claimed_keys: Readonly<Record<string, string>>
  readonly algorithm?: string
}
const comparable = (keys: ReadonlyArray<SessionEntry>) =>
  keys
    .map((k) => ({ room_id: k.room_id, session_id: k.session_id, session_key: k.session_key, sender_key: k.sender_key, sender_claimed_keys: k.sender_claimed_keys, algorithm: k.algorithm }))
    .sort((a, b) => a.session_id.localeCompare(b.session_id))

describe("room key export and import through the facade", () => {
  it("round-trips with matrix-js-sdk 43 in both directions, reports progress, and queues imported keys for backup", { timeout: 120_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const keys = generateRoomKeys(1500, { rooms: 5 })
    const first = await ourClient(server.url, identity)
    const progress: Array<unknown> = []
    await first.importRoomKeys(keys, { progressCallback: (p) => progress.push(p) })
    expect(progress).toEqual([
      { stage: "load_keys", total: 1500, successes: 1000, failures: 0 },
      { stage: "load_keys", total: 1500, successes: 1500, failures: 0 },
    ])
    const ours = await first.exportRoomKeys()
    expect(comparable(ours)).toEqual(comparable(keys))
    expect(JSON.parse(await first.exportRoomKeysAsJson())).toEqual(ours)

    // js-sdk takes our JSON and gives back the same sessions.
    const jsDevice = await loginNewDevice(server.url, identity)
    const { crypto } = await startJsSdkClient(server.url, jsDevice, { sync: false })
    await crypto.importRoomKeysAsJson(await first.exportRoomKeysAsJson())
    expect(comparable(await crypto.exportRoomKeys())).toEqual(comparable(keys))

    // We take js-sdk's JSON: same sessions, and they are queued for the backup like any new key.
    const second = await ourClient(server.url, identity)
    await second.importRoomKeysAsJson(await crypto.exportRoomKeysAsJson())
    expect(comparable(await second.exportRoomKeys())).toEqual(comparable(keys))
    await second.resetKeyBackup()
    await second.waitForBackupSteadyState()
    const version = (await second.getActiveSessionBackupVersion()) ?? ""
    expect(await server.admin.roomKeys(identity.userId, version)).toHaveLength(1500)
  })

  it("bad input rejects with a typed error and stores nothing", { timeout: 60_000 }, async () => {
    const server = await startServer()
    const identity = await createUserWithCrossSigning(server.url)
    const client = await ourClient(server.url, identity)
    const [good, other] = generateRoomKeys(2)
    await expect(client.importRoomKeysAsJson("{ not json")).rejects.toMatchObject({ name: "InvalidArgument", code: "InvalidArgument" })
    await expect(client.importRoomKeysAsJson(JSON.stringify({ keys: [good] }))).rejects.toMatchObject({ code: "InvalidArgument" })
    const error: unknown = await client.importRoomKeys([good, { ...other, session_key: 5 }]).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: "InvalidRoomKey", message: expect.stringContaining("#1") })
    expect(String(error)).not.toContain(good?.session_key.slice(0, 12) ?? "-")
    expect(await client.exportRoomKeys()).toEqual([])
  })
})
