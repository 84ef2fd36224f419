import { describe, expect, it } from "@effect/vitest"
import { BackupDecryptionKey, initAsync } from "@matrix-org/matrix-sdk-crypto-wasm"
import { Either, Redacted, Schema } from "effect"
import {
  BackedUpSessionData,
  decodeBackedUpSessionData,
  encodeBackedUpSessionData,
  stringifyBackedUpSessionData,
} from "../../src/schema/BackedUpRoomKey.js"
import fixture from "./fixtures/js-sdk-backup.json" with { type: "json" }

const SESSION = fixture.megolmSessionData
const SECRET = SESSION.session_key

const reasonOf = (input: unknown) =>
  Either.match(decodeBackedUpSessionData(typeof input === "string" ? input : JSON.stringify(input)), {
    onLeft: (e) => e.reason,
    onRight: () => "ok",
  })

describe("BackedUpSessionData", () => {
  it("decodes the plaintext matrix-sdk-crypto-wasm decrypts from js-sdk's backup vector", async () => {
    await initAsync()
    const key = BackupDecryptionKey.fromBase64(fixture.backupDecryptionKeyBase64)
    const { ephemeral, mac, ciphertext } = fixture.keyBackupData.session_data
    const plaintext = key.decryptV1(ephemeral, mac, ciphertext)
    key.free()
    const data = Either.getOrThrow(decodeBackedUpSessionData(new TextEncoder().encode(plaintext)))
    expect(data.sender_key).toBe(SESSION.sender_key)
    expect(Redacted.value(data.session_key)).toBe(SESSION.session_key)
    expect(data.sender_claimed_keys).toEqual(SESSION.sender_claimed_keys)
    expect(data.forwarding_curve25519_key_chain).toEqual([])
    expect(data.shared_history).toBe(false)
  })

  it("keeps unknown fields (room_id, session_id, untrusted) and drops none", () => {
    const data = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify({ ...SESSION, untrusted: true })))
    expect(data.extra).toEqual({ room_id: SESSION.room_id, session_id: SESSION.session_id, untrusted: true })
  })

  it("defaults a missing forwarding chain to []", () => {
    const { forwarding_curve25519_key_chain: _, ...rest } = SESSION
    expect(Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify(rest))).forwarding_curve25519_key_chain).toEqual([])
  })

  it("reads shared history from any of its three names", () => {
    for (const name of ["shared_history", "m.shared_history", "org.matrix.msc3061.shared_history"]) {
      const yes = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify({ ...SESSION, [name]: true })))
      const no = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify({ ...SESSION, [name]: false })))
      expect([yes.shared_history, no.shared_history, name in yes.extra]).toEqual([true, false, false])
    }
    const mixed = { ...SESSION, shared_history: false, "org.matrix.msc3061.shared_history": true }
    expect(Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify(mixed))).shared_history).toBe(true)
  })

  it("writes m.shared_history and never the MSC3061 alias", () => {
    const input = { ...SESSION, "org.matrix.msc3061.shared_history": true, shared_history: true }
    const data = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify(input)))
    const wire = encodeBackedUpSessionData(data)
    expect(wire["m.shared_history"]).toBe(true)
    expect("org.matrix.msc3061.shared_history" in wire).toBe(false)
    expect("shared_history" in wire).toBe(false)
    expect(wire.session_key).toBe(SECRET)
  })

  it("round-trips through the JSON text", () => {
    const data = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify(SESSION)))
    const again = Either.getOrThrow(decodeBackedUpSessionData(stringifyBackedUpSessionData(data)))
    expect({ ...again, session_key: Redacted.value(again.session_key) }).toEqual({
      ...data,
      session_key: Redacted.value(data.session_key),
    })
  })

  it("classifies failures for per-key counting", () => {
    expect(reasonOf("{not json " + SECRET)).toBe("MalformedPlaintext")
    expect(reasonOf([SECRET])).toBe("MalformedPlaintext")
    expect(reasonOf({ ...SESSION, algorithm: "m.megolm.v2.aes-sha2" })).toBe("UnknownAlgorithm")
    expect(reasonOf({ ...SESSION, session_key: undefined })).toBe("MissingFields")
    expect(reasonOf({ ...SESSION, sender_claimed_keys: undefined })).toBe("MissingFields")
    expect(reasonOf({ ...SESSION, sender_key: "short" })).toBe("MalformedPlaintext")
    expect(reasonOf({ ...SESSION, session_key: 42 })).toBe("MalformedPlaintext")
    expect(reasonOf({ ...SESSION, forwarding_curve25519_key_chain: [1] })).toBe("MalformedPlaintext")
    expect(reasonOf({ ...SESSION, sender_claimed_keys: { ed25519: 5 } })).toBe("MalformedPlaintext")
  })

  it("never puts plaintext in errors, messages or the Schema's parse error", () => {
    const inputs = [
      "{bad json " + SECRET,
      JSON.stringify({ ...SESSION, sender_key: 5 }),
      JSON.stringify({ ...SESSION, algorithm: SECRET }),
      JSON.stringify({ ...SESSION, sender_key: undefined }),
    ]
    for (const input of inputs) {
      const error = Either.flip(decodeBackedUpSessionData(input)).pipe(Either.getOrThrow)
      expect(JSON.stringify(error) + String(error) + error.message).not.toContain(SECRET.slice(0, 40))
    }
    const parsed = Schema.decodeUnknownEither(BackedUpSessionData)({ ...SESSION, algorithm: 7 })
    if (Either.isRight(parsed)) throw new Error("expected a failure")
    expect(String(parsed.left) + JSON.stringify(parsed.left)).not.toContain(SECRET.slice(0, 40))
    expect(parsed.left.message).toContain("UnknownAlgorithm")
  })

  it("logs the decoded session key as redacted", () => {
    const data = Either.getOrThrow(decodeBackedUpSessionData(JSON.stringify(SESSION)))
    expect(String(data.session_key)).not.toContain(SECRET.slice(0, 20))
    expect(JSON.stringify(data)).not.toContain(SECRET.slice(0, 20))
  })
})
