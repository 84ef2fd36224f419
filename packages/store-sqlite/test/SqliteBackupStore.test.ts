// The BackupStore conformance suite over real SQLite files, with the reopen and migration hooks.
import { RecordCodec } from "@matrix-backup/core/adapter"
import * as BackupStoreSuite from "@matrix-backup/testkit/BackupStoreSuite"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layer } from "../src/SqliteBackupStore.js"
import { migrate } from "../src/SqliteSchema.js"

const dir = mkdtempSync(join(tmpdir(), "mb-sqlite-"))
let n = 0
export const freshFile = () => join(dir, `store-${process.pid}-${n++}.sqlite`)

BackupStoreSuite.run("sqlite", () => layer({ filename: freshFile() }), {
  reopenable: () => {
    const filename = freshFile()
    return (options) => layer({ filename, ...options })
  },
  previousVersion: (rows) =>
    Effect.sync(() => {
      const filename = freshFile()
      const db = new Database(filename)
      migrate(db, 1)
      const insert = db.prepare(
        "INSERT INTO room_keys (room_id, session_id, first_known_index, backed_up_to, revision, data) VALUES (?, ?, ?, ?, 1, ?)",
      )
      db.transaction(() => {
        for (const { key, backedUpTo } of rows) {
          const e = RecordCodec.encodeRoomKey(key)
          insert.run(e.roomId, e.sessionId, e.firstKnownIndex, backedUpTo, e.data)
        }
      })()
      db.close()
      return (options) => layer({ filename, ...options })
    }),
})
