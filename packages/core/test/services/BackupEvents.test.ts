import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Queue } from "effect"
import { BackupEvents, CryptoEvent, layer, payloadOf } from "../../src/services/BackupEvents.js"

describe("BackupEvents", () => {
  it("uses matrix-js-sdk's event strings", () => {
    expect(CryptoEvent).toEqual({
      KeyBackupStatus: "crypto.keyBackupStatus",
      KeyBackupSessionsRemaining: "crypto.keyBackupSessionsRemaining",
      KeyBackupFailed: "crypto.keyBackupFailed",
      KeyBackupDecryptionKeyCached: "crypto.keyBackupDecryptionKeyCached",
    })
  })

  it.scoped("delivers events published after subscribing, in order, to every subscriber", () =>
    Effect.gen(function* () {
      const hub = yield* BackupEvents
      yield* hub.publish({ name: CryptoEvent.KeyBackupStatus, enabled: true })
      const first = yield* hub.subscribe
      const second = yield* hub.subscribe
      yield* hub.publish({ name: CryptoEvent.KeyBackupSessionsRemaining, remaining: 3 })
      yield* hub.publish({ name: CryptoEvent.KeyBackupFailed, errcode: "M_NOT_FOUND" })
      for (const queue of [first, second]) {
        const got = Chunk.toReadonlyArray(yield* Queue.takeAll(queue)).map(payloadOf)
        expect(got).toEqual([3, "M_NOT_FOUND"])
      }
    }).pipe(Effect.provide(layer)),
  )

  it("maps each event to the listener argument matrix-js-sdk passes", () => {
    expect(payloadOf({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version: "7" })).toBe("7")
    expect(payloadOf({ name: CryptoEvent.KeyBackupStatus, enabled: false })).toBe(false)
  })
})
