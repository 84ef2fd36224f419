import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  Curve25519SessionData,
  KeyBackupData,
  KeysBackupRequest,
  RoomKeyBackup,
  RoomKeysUpdateResponse,
} from "../../src/schema/KeyBackupData.js"
import { RoomIdKey } from "../../src/schema/Ids.js"
import fixture from "./fixtures/js-sdk-backup.json" with { type: "json" }

const isLeft = <A, I>(schema: Schema.Schema<A, I>, value: unknown) =>
  Either.isLeft(Schema.decodeUnknownEither(schema)(value))

describe("KeyBackupData", () => {
  it("decodes js-sdk's backed-up session and its curve25519 session_data", () => {
    const data = Schema.decodeUnknownSync(KeyBackupData)(fixture.keyBackupData)
    expect(data.first_message_index).toBe(1)
    const sessionData = Schema.decodeUnknownSync(Curve25519SessionData)(data.session_data)
    expect(sessionData.ephemeral.length).toBe(32)
    expect(sessionData.mac.length).toBe(8)
    expect(sessionData.ciphertext.length % 16).toBe(0)
    expect(Schema.encodeSync(Curve25519SessionData)(sessionData)).toEqual(fixture.keyBackupData.session_data)
  })

  it("accepts padded session_data base64", () => {
    const padded = { ...fixture.keyBackupData.session_data, mac: "OibmACbORhI=" }
    expect(Schema.decodeUnknownSync(Curve25519SessionData)(padded).mac.length).toBe(8)
  })

  it("rejects negative or fractional counters, a non-boolean is_verified and a non-object session_data", () => {
    const base = fixture.keyBackupData
    expect(isLeft(KeyBackupData, { ...base, first_message_index: -1 })).toBe(true)
    expect(isLeft(KeyBackupData, { ...base, forwarded_count: 1.5 })).toBe(true)
    expect(isLeft(KeyBackupData, { ...base, is_verified: 1 })).toBe(true)
    expect(isLeft(KeyBackupData, { ...base, session_data: "opaque" })).toBe(true)
    const { is_verified: _, ...missing } = base
    expect(isLeft(KeyBackupData, missing)).toBe(true)
  })

  it("keeps every room and session key, including ids with / + : and !", () => {
    const body = {
      rooms: {
        [fixture.roomId]: { sessions: { [fixture.sessionId]: fixture.keyBackupData } },
        "!v12roomWithoutServer": { sessions: {} },
        "odd-room-key": { sessions: { "a/b+c:d!e": fixture.keyBackupData } },
      },
    }
    const decoded = Schema.decodeUnknownSync(KeysBackupRequest)(body)
    expect(Object.keys(decoded.rooms).sort()).toEqual(Object.keys(body.rooms).sort())
    expect(Object.keys(decoded.rooms[RoomIdKey.make("odd-room-key")]?.sessions ?? {})).toEqual(["a/b+c:d!e"])
    expect(Schema.encodeSync(KeysBackupRequest)(decoded)).toEqual(body)
  })

  it("decodes the empty GET forms", () => {
    expect(Schema.decodeUnknownSync(KeysBackupRequest)({ rooms: {} }).rooms).toEqual({})
    expect(Schema.decodeUnknownSync(RoomKeyBackup)({ sessions: {} }).sessions).toEqual({})
  })

  it("decodes {etag, count}", () => {
    expect(Schema.decodeUnknownSync(RoomKeysUpdateResponse)({ etag: "3", count: 10 })).toEqual({ etag: "3", count: 10 })
    expect(isLeft(RoomKeysUpdateResponse, { etag: 3, count: 10 })).toBe(true)
  })
})
