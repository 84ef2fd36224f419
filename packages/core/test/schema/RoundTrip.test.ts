// Property tests: decode ∘ encode is the identity for the wire shapes we both read and write.
import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import fc from "fast-check"
import { decodeBackedUpSessionData, stringifyBackedUpSessionData } from "../../src/schema/BackedUpRoomKey.js"
import type { BackedUpSessionData } from "../../src/schema/BackedUpRoomKey.js"
import { KeyBackupInfo } from "../../src/schema/BackupInfo.js"
import { KeysBackupRequest } from "../../src/schema/KeyBackupData.js"

const b64 = (length: number) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, ""))
const json = fc.jsonValue({ maxDepth: 2 })
// Map keys other than `__proto__`, which decoding drops on purpose (tested on its own below).
const mapKey = (minLength = 0) => fc.string({ minLength }).filter((key) => key !== "__proto__")
const keyBackupData = fc.record({
  first_message_index: fc.nat(),
  forwarded_count: fc.nat(),
  is_verified: fc.boolean(),
  session_data: fc.dictionary(mapKey(), json, { maxKeys: 4 }),
})
const KNOWN = new Set(["algorithm", "sender_key", "session_key", "sender_claimed_keys", "forwarding_curve25519_key_chain", "shared_history", "m.shared_history", "org.matrix.msc3061.shared_history", "__proto__"])

describe("wire round trips", () => {
  it("KeysBackupRequest keeps every room, session and value, whatever the ids", () => {
    fc.assert(
      fc.property(fc.dictionary(mapKey(1), fc.record({ sessions: fc.dictionary(mapKey(1), keyBackupData, { maxKeys: 5 }) }), { maxKeys: 5 }), (rooms) => {
        const wire = JSON.parse(JSON.stringify({ rooms })) as unknown
        const decoded = Schema.decodeUnknownSync(KeysBackupRequest)(wire)
        expect(Schema.encodeSync(KeysBackupRequest)(decoded)).toEqual(wire)
      }),
    )
  })

  it("KeyBackupInfo encodes back to the auth_data it read, unknown fields included", () => {
    const authData = fc.record({ public_key: b64(32), extra: fc.dictionary(fc.string(), json, { maxKeys: 3 }) })
    fc.assert(
      fc.property(authData, fc.option(fc.nat(), { nil: undefined }), ({ public_key, extra }, count) => {
        const auth_data = JSON.parse(JSON.stringify({ ...extra, public_key })) as Record<string, unknown>
        const wire = { algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data, version: "1", ...(count === undefined ? {} : { count }) }
        const info = Schema.decodeUnknownSync(KeyBackupInfo)(wire)
        expect(info.auth_data._tag).toBe("Curve25519")
        // `__proto__` is the one key not kept (see the next test).
        const kept = Object.fromEntries(Object.entries(auth_data).filter(([key]) => key !== "__proto__"))
        expect(Schema.encodeSync(KeyBackupInfo)(info)).toEqual({ ...wire, auth_data: kept })
      }),
    )
  })

  it("a __proto__ key never becomes the prototype of a decoded object", () => {
    const publicKey = Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "")
    const wire = JSON.parse(`{
      "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
      "version": "1",
      "auth_data": { "__proto__": { "public_key": "${publicKey}", "polluted": true } }
    }`) as unknown
    const info = Schema.decodeUnknownSync(KeyBackupInfo)(wire)
    // Without the guard the raw map would inherit public_key and decode as a usable Curve25519 backup.
    expect(info.auth_data._tag).toBe("Unknown")
    expect(Object.getPrototypeOf(info.auth_data.raw)).toBe(Object.prototype)
    expect("polluted" in info.auth_data.raw).toBe(false)
    expect(Schema.encodeSync(KeyBackupInfo)(info).auth_data).toEqual({})

    const plaintext = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: publicKey,
      session_key: "AQID",
      sender_claimed_keys: {},
      extra_field: 1,
    }).replace('"extra_field":1', '"extra_field":1,"__proto__":{"shared_history":true}')))
    expect(plaintext.extra).toEqual({ extra_field: 1 })
    expect(Object.hasOwn(plaintext.extra, "__proto__")).toBe(false)
  })

  it("BackedUpSessionData survives stringify and decode", () => {
    const data = fc.record({
      sender_key: b64(32),
      session_key: b64(165),
      ed25519: b64(32),
      chain: fc.array(b64(32), { maxLength: 3 }),
      shared_history: fc.boolean(),
      extra: fc.dictionary(fc.string().filter((k) => !KNOWN.has(k)), json, { maxKeys: 3 }),
    })
    fc.assert(
      fc.property(data, (d) => {
        const value: BackedUpSessionData = {
          algorithm: "m.megolm.v1.aes-sha2",
          sender_key: d.sender_key,
          session_key: Redacted.make(d.session_key),
          sender_claimed_keys: { ed25519: d.ed25519 },
          forwarding_curve25519_key_chain: d.chain,
          shared_history: d.shared_history,
          extra: JSON.parse(JSON.stringify(d.extra)) as Record<string, unknown>,
        }
        const again = Either.getOrThrow(decodeBackedUpSessionData(stringifyBackedUpSessionData(value)))
        expect({ ...again, session_key: Redacted.value(again.session_key) }).toEqual({ ...value, session_key: d.session_key })
      }),
    )
  })
})
