import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { ExportedRoomKey, fromExported, RoomKey, toExported } from "../../src/schema/RoomKey.js"

const exported = {
  room_id: "!room:example.org",
  session_id: "sess1",
  algorithm: "m.megolm.v1.aes-sha2",
  sender_key: "senderCurve",
  session_key: "AQAAAAsecret",
  sender_claimed_keys: { ed25519: "edKey" },
  forwarding_curve25519_key_chain: ["fwd1"],
  first_known_index: 4,
  "org.matrix.msc3061.shared_history": true,
  untrusted: true,
}

describe("RoomKey", () => {
  it("maps an Element key-file entry to the domain record, keeping unknown fields", () => {
    const decoded = Schema.decodeUnknownSync(ExportedRoomKey)(exported)
    const key = fromExported(decoded, { source: "file" })
    expect(key).toEqual({
      roomId: "!room:example.org",
      sessionId: "sess1",
      algorithm: "m.megolm.v1.aes-sha2",
      senderKey: "senderCurve",
      sessionKey: "AQAAAAsecret",
      senderClaimedKeys: { ed25519: "edKey" },
      forwardingCurve25519KeyChain: ["fwd1"],
      firstKnownIndex: 4,
      sharedHistory: true,
      imported: true,
      source: "file",
      extra: { untrusted: true },
    })
    expect(Schema.is(RoomKey)(key)).toBe(true)
  })

  it("reads any of the three shared-history names and writes only m.shared_history", () => {
    for (const name of ["m.shared_history", "shared_history", "org.matrix.msc3061.shared_history"]) {
      const { "org.matrix.msc3061.shared_history": _, ...rest } = exported
      const key = fromExported(Schema.decodeUnknownSync(ExportedRoomKey)({ ...rest, [name]: true }))
      expect(key.sharedHistory).toBe(true)
      const out = toExported(key)
      expect(out["m.shared_history"]).toBe(true)
      expect(Object.keys(out).filter((k) => k.includes("shared_history"))).toEqual(["m.shared_history"])
    }
    const { "org.matrix.msc3061.shared_history": _, ...plain } = exported
    expect(fromExported(Schema.decodeUnknownSync(ExportedRoomKey)(plain)).sharedHistory).toBe(false)
  })

  it("defaults a missing first index, chain and claimed keys, and round-trips through toExported", () => {
    const minimal = { room_id: "!r", session_id: "s", algorithm: "m.megolm.v1.aes-sha2", sender_key: "k", session_key: "x" }
    const key = fromExported(Schema.decodeUnknownSync(ExportedRoomKey)(minimal), { imported: false })
    expect(key.firstKnownIndex).toBe(0)
    expect(key.forwardingCurve25519KeyChain).toEqual([])
    expect(key.senderClaimedKeys).toEqual({})
    expect(key.imported).toBe(false)
    const again = fromExported(Schema.decodeUnknownSync(ExportedRoomKey)(toExported(key)), { imported: false })
    expect(again).toEqual(key)
    const full = fromExported(Schema.decodeUnknownSync(ExportedRoomKey)(exported), { source: "file" })
    expect(fromExported(Schema.decodeUnknownSync(ExportedRoomKey)(toExported(full)), { source: "file" })).toEqual(full)
  })

  it("rejects another algorithm and a negative index with a parse error", () => {
    const decode = Schema.decodeUnknownEither(ExportedRoomKey)
    expect(Either.isLeft(decode({ ...exported, algorithm: "m.olm.v1" }))).toBe(true)
    expect(Either.isLeft(decode({ ...exported, first_known_index: -1 }))).toBe(true)
  })
})
