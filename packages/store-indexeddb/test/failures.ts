// IndexedDB failures every environment must map to typed errors: a foreign database of the same name,
// a newer schema version, a closed connection, a damaged record.
import { describe, expect, it } from "@effect/vitest"
import { BackupStore } from "@matrix-backup/core"
import { Effect, Stream } from "effect"
import { layer } from "../src/IndexedDbBackupStore.js"
import { ROOM_KEYS } from "../src/IndexedDbSchema.js"
import { freshName } from "./runSuite.js"

const openRaw = (name: string, version: number, upgrade: (db: IDBDatabase) => void) =>
  Effect.async<IDBDatabase>((resume) => {
    const request = indexedDB.open(name, version)
    request.onupgradeneeded = () => upgrade(request.result)
    request.onsuccess = () => resume(Effect.succeed(request.result))
  })

const openReason = (name: string) =>
  Effect.map(Effect.flip(Effect.scoped(Effect.provide(BackupStore.BackupStore, layer({ name })))), (e) => e.reason)

export const runFailures = () =>
  describe("IndexedDB failures", () => {
    it.effect("a database of another application (same name) gives Foreign and keeps its stores", () =>
      Effect.gen(function* () {
        const name = freshName()
        ;(yield* openRaw(name, 1, (db) => db.createObjectStore("messages"))).close()
        expect(yield* openReason(name)).toBe("Foreign")
        const again = yield* openRaw(name, 1, () => undefined)
        expect([...again.objectStoreNames]).toEqual(["messages"])
        again.close()
        ;(yield* openRaw(name + "-v2", 2, (db) => db.createObjectStore("messages"))).close()
        expect(yield* openReason(name + "-v2")).toBe("Foreign")
      }))

    it.effect("a database from a newer schema version gives Migration", () =>
      Effect.gen(function* () {
        const name = freshName()
        ;(yield* openRaw(name, 50, (db) => db.createObjectStore(ROOM_KEYS))).close()
        expect(yield* openReason(name)).toBe("Migration")
      }))

    it.effect("a closed store gives Closed", () =>
      Effect.gen(function* () {
        const store = yield* Effect.scoped(Effect.provide(BackupStore.BackupStore, layer({ name: freshName() })))
        expect((yield* Effect.flip(store.countTotal())).reason).toBe("Closed")
      }))

    it.effect("a damaged record gives Corrupt and shows none of its contents", () =>
      Effect.gen(function* () {
        const name = freshName()
        const key = {
          roomId: "!r:example.org", sessionId: "s", algorithm: "m.megolm.v1.aes-sha2" as const, senderKey: "k",
          sessionKey: "AQAAAAsecret", senderClaimedKeys: {}, forwardingCurve25519KeyChain: [],
          firstKnownIndex: 0, sharedHistory: false, imported: false,
        }
        yield* Effect.flatMap(BackupStore.BackupStore, (s) => s.upsertRoomKeys([key])).pipe(Effect.provide(layer({ name })))
        const db = yield* openRaw(name, 2, () => undefined)
        yield* Effect.async<void>((resume) => {
          const tx = db.transaction([ROOM_KEYS], "readwrite")
          tx.objectStore(ROOM_KEYS).put({ roomId: "!r:example.org", sessionId: "s", backedUpTo: "", data: "AQAAAAsecret" })
          tx.oncomplete = () => resume(Effect.void)
        })
        db.close()
        const error = yield* Effect.flatMap(BackupStore.BackupStore, (s) => Stream.runDrain(s.exportRoomKeys())).pipe(
          Effect.provide(layer({ name })),
          Effect.flip,
        )
        expect(error.reason).toBe("Corrupt")
        expect(error.message).not.toContain("AQAAAA")
      }))
  })
