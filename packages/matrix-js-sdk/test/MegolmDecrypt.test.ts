// End to end with a real Megolm session: another device's OlmMachine (matrix-sdk-crypto-wasm) encrypts an event, its
// session goes into the backup, and a js-sdk device that restored through the bridge decrypts the event.
import { afterEach, describe, expect, it } from "vitest"
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm"
import type { ExportedRoomKey, RunningFakeHomeserver } from "@matrix-backup/testkit"
import { seedBackup } from "@matrix-backup/testkit"
import { stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { MatrixEvent } from "matrix-js-sdk"
import { randomBytes } from "node:crypto"
import { restoreKeyBackup } from "../src/index.js"
import { deviceWithKey, offThread, serverWithUser, WORKER_ENTRY } from "./support.js"

let server: RunningFakeHomeserver | undefined
afterEach(async () => {
  stopAllJsSdkClients()
  await server?.stop()
  server = undefined
})

const ROOM = "!megolm:example.org"

/** Bob's device encrypts `body` in ROOM; returns the encrypted content and Bob's exported session. */
const encryptAsBob = async (body: string) => {
  await wasm.initAsync()
  const bob = await wasm.OlmMachine.initialize(new wasm.UserId("@bob:example.org"), new wasm.DeviceId("BOBDEVICE"))
  const room = new wasm.RoomId(ROOM)
  await bob.shareRoomKey(room, [], new wasm.EncryptionSettings())
  const content: unknown = JSON.parse(await bob.encryptRoomEvent(room, "m.room.message", JSON.stringify({ msgtype: "m.text", body })))
  const sessions: Array<ExportedRoomKey> = JSON.parse(await bob.exportRoomKeys(() => true))
  bob.free()
  return { content, sessions }
}

describe("a real Megolm session restored through the bridge", () => {
  it("decrypts the event it encrypted", { timeout: 60_000 }, async () => {
    const made = await serverWithUser()
    server = made.server
    const { content, sessions } = await encryptAsBob("hello from the backup")
    expect(sessions).toHaveLength(1)
    const privateKey = new Uint8Array(randomBytes(32))
    const { version } = await seedBackup(server, made.user.userId, { backupPrivateKey: privateKey, keys: sessions })
    const device = await deviceWithKey(server, made.user, privateKey, version)

    const event = new MatrixEvent({
      type: "m.room.encrypted",
      room_id: ROOM,
      sender: "@bob:example.org",
      event_id: "$megolm-event",
      origin_server_ts: Date.now(),
      content: content as Record<string, unknown>,
    })
    await device.client.decryptEventIfNeeded(event)
    expect(event.isDecryptionFailure()).toBe(true)

    const result = await restoreKeyBackup(device.client, { ...offThread(1), workerEntry: WORKER_ENTRY })
    expect(result).toMatchObject({ total: 1, imported: 1 })
    const retried = new MatrixEvent(event.getEffectiveEvent())
    await device.client.decryptEventIfNeeded(retried)
    expect(retried.isDecryptionFailure()).toBe(false)
    expect(retried.getContent()).toMatchObject({ msgtype: "m.text", body: "hello from the backup" })
  })
})
