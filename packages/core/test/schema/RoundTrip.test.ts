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
const keyBackupData = fc.record({
  first_message_index: fc.nat(),
  forwarded_count: fc.nat(),
  is_verified: fc.boolean(),
  session_data: fc.dictionary(fc.string(), json, { maxKeys: 4 }),
})
const KNOWN = new Set(["algorithm", "sender_key", "session_key", "sender_claimed_keys", "forwarding_curve25519_key_chain", "shared_history", "m.shared_history", "org.matrix.msc3061.shared_history", "__proto__"])

describe("wire round trips", () => {
  it("KeysBackupRequest keeps every room, session and value, whatever the ids", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.record({ sessions: fc.dictionary(fc.string({ minLength: 1 }), keyBackupData, { maxKeys: 5 }) }), { maxKeys: 5 }), (rooms) => {
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
        const wire = JSON.parse(JSON.stringify({
          algorithm: "m.megolm_backup.v1.curve25519-aes-sha2",
          auth_data: { ...extra, public_key },
          version: "1",
          ...(count === undefined ? {} : { count }),
        })) as unknown
        const info = Schema.decodeUnknownSync(KeyBackupInfo)(wire)
        expect(info.auth_data._tag).toBe("Curve25519")
        expect(Schema.encodeSync(KeyBackupInfo)(info)).toEqual(wire)
      }),
    )
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
