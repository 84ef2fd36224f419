// Runs the conformance suite over whatever `indexedDB` the environment has (fake-indexeddb in Node,
// the real one in Chromium), with the reopen and previous-schema hooks.
import { RecordCodec } from "@matrix-backup/core/adapter"
import * as BackupStoreSuite from "@matrix-backup/testkit/BackupStoreSuite"
import { Effect } from "effect"
import { layer } from "../src/IndexedDbBackupStore.js"
import { openDatabase, ROOM_KEYS } from "../src/IndexedDbSchema.js"

let n = 0
/** A database name no other test uses. */
export const freshName = () => `mb-test-${Date.now()}-${n++}`

/** Writes rows as version 1 stored them (`backedUpTo: null` for none, no index, no counters). */
export const writeVersion1 = (name: string, rows: ReadonlyArray<BackupStoreSuite.SeedRow>) =>
  Effect.flatMap(openDatabase(indexedDB, name, 1), (db) =>
    Effect.async<void>((resume) => {
      const tx = db.transaction([ROOM_KEYS], "readwrite")
      for (const { key, backedUpTo } of rows) {
        tx.objectStore(ROOM_KEYS).put({ ...RecordCodec.encodeRoomKey(key), backedUpTo, revision: 1 })
      }
      tx.oncomplete = () => {
        db.close()
        resume(Effect.void)
      }
    }),
  ).pipe(Effect.orDie)

export const runSuite = (label: string) =>
  BackupStoreSuite.run(`indexeddb (${label})`, () => layer({ name: freshName() }), {
    reopenable: () => {
      const name = freshName()
      return (options) => layer({ name, ...options })
    },
    previousVersion: (rows) =>
      Effect.gen(function* () {
        const name = freshName()
        yield* writeVersion1(name, rows)
        return (options) => layer({ name, ...options })
      }),
  })
