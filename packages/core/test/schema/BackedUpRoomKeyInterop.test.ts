// Interop with matrix-rust-sdk (through matrix-sdk-crypto-wasm): the plaintext it backs up decodes
// with our schema, and the plaintext we encode is accepted by its importer.
import { describe, expect, it } from "@effect/vitest"
import {
  BackupDecryptionKey,
  DeviceId,
  EncryptionSettings,
  initAsync,
  OlmMachine,
  RoomId,
  UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm"
import { Either, Schema } from "effect"
import { decodeBackedUpSessionData, stringifyBackedUpSessionData } from "../../src/schema/BackedUpRoomKey.js"
import { RoomIdKey } from "../../src/schema/Ids.js"
import { Curve25519SessionData, KeysBackupRequest } from "../../src/schema/KeyBackupData.js"

const ROOM = "!interop:localhost"

const rustBackup = async () => {
  await initAsync()
  const machine = await OlmMachine.initialize(new UserId("@alice:localhost"), new DeviceId("ALICEDEV"))
  await machine.shareRoomKey(new RoomId(ROOM), [], new EncryptionSettings())
  const key = BackupDecryptionKey.createRandomKey()
  await machine.enableBackupV1(key.megolmV1PublicKey.publicKeyBase64, "1")
  const request = await machine.backupRoomKeys()
  if (request === undefined) throw new Error("no backup request")
  return { machine, key, body: JSON.parse(request.body) as unknown }
}

describe("BackedUpSessionData interop with matrix-rust-sdk", () => {
  it("decodes what matrix-rust-sdk backs up, and rust imports what we encode", async () => {
    const { machine, key, body } = await rustBackup()
    const request = Schema.decodeUnknownSync(KeysBackupRequest)(body)
    const sessions = Object.entries(request.rooms[RoomIdKey.make(ROOM)]?.sessions ?? {})
    expect(sessions.length).toBe(1)
    const [sessionId, data] = sessions[0] ?? ["", undefined]
    if (data === undefined) throw new Error("no session")
    const sd = Schema.decodeUnknownSync(Curve25519SessionData)(data.session_data)
    expect(sd.mac.length).toBe(8)
    const raw = Schema.encodeSync(Curve25519SessionData)(sd)
    const plaintext = key.decryptV1(raw.ephemeral, raw.mac, raw.ciphertext)
    expect(Object.keys(JSON.parse(plaintext))).toContain("m.shared_history")
    const decoded = Either.getOrThrow(decodeBackedUpSessionData(plaintext))
    expect(decoded.sender_key).toBe(machine.identityKeys.curve25519.toBase64())
    expect(decoded.sender_claimed_keys.ed25519).toBe(machine.identityKeys.ed25519.toBase64())
    expect(decoded.forwarding_curve25519_key_chain).toEqual([])

    await initAsync()
    const bob = await OlmMachine.initialize(new UserId("@alice:localhost"), new DeviceId("NEWDEV"))
    const ours = JSON.parse(stringifyBackedUpSessionData({ ...decoded, shared_history: true })) as Record<string, unknown>
    const result = await bob.importBackedUpRoomKeys(new Map([[new RoomId(ROOM), new Map([[sessionId, ours]])]]), () => undefined, "1")
    expect(result.importedCount).toBe(1)
    expect(result.totalCount).toBe(1)
    const exported = JSON.parse(await bob.exportRoomKeys(() => true)) as Array<Record<string, unknown>>
    expect(exported.map((k) => [k.session_id, k["m.shared_history"] ?? k.shared_history])).toEqual([[sessionId, true]])
    machine.free()
    bob.free()
  })
})
