// Upload settings (batch size, backoff) and the request body built for one key: pure functions, no server.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { activeVersionOf } from "../../src/backup/BackupState.js"
import { envelopeOf, plaintextOf } from "../../src/backup/UploadBatch.js"
import { resolveUploadOptions, uploadBackoff } from "../../src/backup/UploadOptions.js"
import { stepper } from "../../src/retry/Backoff.js"
import type { RoomKey } from "../../src/schema/RoomKey.js"

/** One room key as the host SDK hands it over (what the engine tests generate, written out). */
const key: RoomKey = {
  roomId: "!room0:localhost",
  sessionId: "c2Vzc2lvbi0w",
  algorithm: "m.megolm.v1.aes-sha2",
  senderKey: "c2VuZGVyLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDA",
  sessionKey: "AQAAAABzZXNzaW9uLWtleQ",
  senderClaimedKeys: { ed25519: "Y2xhaW1lZC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDA" },
  forwardingCurve25519KeyChain: [],
  firstKnownIndex: 0,
  sharedHistory: false,
  imported: false,
  source: "direct",
}

describe("upload settings and request building", () => {
  it.effect("backoff doubles from the base and stops at the cap (1, 2, 4, 8, 16, 16 s by default)", () =>
    Effect.gen(function* () {
      const backoff = yield* stepper(uploadBackoff(resolveUploadOptions()))
      const delays = yield* Effect.all(Array.from({ length: 40 }, () => backoff.next))
      expect([1, 2, 3, 4, 5, 6, 40].map((n) => delays[n - 1]).map((d) => d?.value)).toEqual(
        [1000, 2000, 4000, 8000, 16000, 16000, 16000].map((millis) => ({ _tag: "Millis", millis })),
      )
      expect(resolveUploadOptions({ batchSize: 0 }).batchSize).toBe(1)
      expect(resolveUploadOptions().batchSize).toBe(100)
    }),
  )

  it("the plaintext is the session export with sender data and m.shared_history; the envelope follows matrix-rust-sdk", () => {
    const shared = { ...key, sharedHistory: true, imported: true, firstKnownIndex: 5, extra: { untrusted: true } }
    expect(JSON.parse(new TextDecoder().decode(plaintextOf(shared)))).toEqual({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: key.senderKey,
      session_key: key.sessionKey,
      sender_claimed_keys: key.senderClaimedKeys,
      forwarding_curve25519_key_chain: [],
      "m.shared_history": true,
      untrusted: true,
    })
    expect(envelopeOf(shared, { x: 1 })).toEqual({ first_message_index: 5, forwarded_count: 1, is_verified: false, session_data: { x: 1 } })
    expect(envelopeOf(key, {}).forwarded_count).toBe(0)
  })

  it("activeVersionOf reads the version uploads target", () => {
    expect(activeVersionOf({ _tag: "Uploading", version: "3", remaining: 1 })).toBe("3")
    expect(activeVersionOf({ _tag: "Disabled", reason: "NotTrusted", version: "3" })).toBeUndefined()
  })
})
