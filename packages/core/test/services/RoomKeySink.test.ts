import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { RoomKey } from "../../src/schema/RoomKey.js"
import * as BackupStore from "../../src/services/BackupStore.js"
import * as RoomKeySink from "../../src/services/RoomKeySink.js"

const key = (roomId: string, sessionId: string): RoomKey => ({
  roomId,
  sessionId,
  algorithm: "m.megolm.v1.aes-sha2",
  senderKey: "curve",
  sessionKey: `AQAAAA-${sessionId}`,
  senderClaimedKeys: { ed25519: "ed" },
  forwardingCurve25519KeyChain: [],
  firstKnownIndex: 0,
  sharedHistory: false,
  imported: true,
  source: "backup",
})

describe("RoomKeySink.fromBackupStore", () => {
  it.effect("stores each batch backed up to its version, keeps completed rooms as a checkpoint, clears it when finished", () =>
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      const sink = RoomKeySink.fromBackupStore(store)
      yield* sink.importBatch({ version: "3", keys: [key("!a:x", "s1"), key("!b:x", "s2")], completedRooms: ["!a:x"] })
      expect(yield* sink.completedRooms("3")).toEqual(new Set(["!a:x"]))
      const stored = yield* store.getRoomKey("!b:x", "s2")
      expect(Option.map(stored, (k) => k.backedUpTo)).toEqual(Option.some("3"))
      expect(yield* store.countPending("3")).toBe(0)
      // A batch with only a completed room moves the checkpoint without keys.
      yield* sink.importBatch({ version: "3", keys: [], completedRooms: ["!b:x"] })
      expect(yield* sink.completedRooms("3")).toEqual(new Set(["!a:x", "!b:x"]))
      yield* sink.restoreFinished("3")
      expect(yield* sink.completedRooms("3")).toEqual(new Set())
      expect(yield* store.countTotal()).toBe(2)
    }).pipe(Effect.provide(BackupStore.layerMemory)),
  )
})

describe("RoomKeySink.make", () => {
  it.effect("hands over non-empty batches only, has no checkpoints, and passes the sink's failure through", () =>
    Effect.gen(function* () {
      const seen: Array<RoomKeySink.RoomKeyBatch> = []
      const sink = RoomKeySink.make((batch) =>
        batch.version === "bad" ? Effect.fail(new RoomKeySink.RoomKeySinkError({ message: "refused" })) : Effect.sync(() => void seen.push(batch)),
      )
      yield* sink.importBatch({ version: "1", keys: [], completedRooms: ["!a:x"] })
      yield* sink.importBatch({ version: "1", keys: [key("!a:x", "s1")], completedRooms: [] })
      expect(seen.map((b) => b.keys.length)).toEqual([1])
      expect(yield* sink.completedRooms("1")).toEqual(new Set())
      yield* sink.restoreFinished("1")
      const error = yield* Effect.flip(sink.importBatch({ version: "bad", keys: [key("!a:x", "s2")], completedRooms: [] }))
      expect(error).toMatchObject({ _tag: "RoomKeySinkError", message: "refused" })
    }),
  )
})
