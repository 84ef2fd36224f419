// SQLite-specific behaviour: all-or-nothing batches under SIGKILL, typed errors for damaged, foreign
// and newer files, a closed store, and query plans that use the indexes (no scans on the hot path).
import { describe, expect, it } from "@effect/vitest"
import { BackupStore } from "@matrix-backup/core"
import Database from "better-sqlite3"
import { Effect, Stream } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { layer } from "../src/SqliteBackupStore.js"
import { openDatabase } from "../src/SqliteOpen.js"
import { APPLICATION_ID } from "../src/SqliteSchema.js"

const dir = mkdtempSync(join(tmpdir(), "mb-sqlite-durability-"))
const here = dirname(fileURLToPath(import.meta.url))
const fromVitest = createRequire(createRequire(import.meta.url).resolve("vitest/package.json"))
const viteNode = join(dirname(fromVitest.resolve("vite-node/package.json")), "vite-node.mjs")

const counts = (filename: string) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    return {
      total: yield* store.countTotal(),
      pending1: yield* store.countPending("1"),
      checkpoint: [...(yield* store.getRestoreCheckpoint("1"))],
    }
  }).pipe(Effect.provide(layer({ filename })))

/** Runs the import child; with `killAt`, kills it once it has written that row of the big batch (or lets it finish). */
const runChild = (filename: string, keys: number, killAt: number | undefined) =>
  new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve, reject) => {
    const args = [viteNode, "-c", join(here, "../../../vitest.shared.ts"), join(here, "fixtures/ImportChild.ts"), filename, String(keys)]
    const child = spawn(process.execPath, killAt === undefined ? args : [...args, String(killAt)], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (killAt !== undefined && output.includes("midway")) child.kill("SIGKILL")
    })
    child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()))
    child.on("error", reject)
    child.on("exit", (_code, signal) => resolve({ signal, output }))
  })

describe("SQLite durability", () => {
  it.live("a batch killed mid-way (SIGKILL) leaves none of it; counts and checkpoint stay consistent", () =>
    Effect.gen(function* () {
      const filename = join(dir, "killed.sqlite")
      // Killed inside the open transaction, once about half of its 20,000 rows were written.
      const { signal, output } = yield* Effect.promise(() => runChild(filename, 20_000, 10_000))
      expect(signal).toBe("SIGKILL")
      expect(output).toContain("begin")
      expect(output).toContain("midway")
      expect(output).not.toContain("committed")
      expect(yield* counts(filename)).toEqual({ total: 1000, pending1: 1000, checkpoint: [] })
    }), 60_000)

  it.live("the same batch left to finish is all there, with its checkpoint", () =>
    Effect.gen(function* () {
      const filename = join(dir, "finished.sqlite")
      const { signal, output } = yield* Effect.promise(() => runChild(filename, 20_000, undefined))
      expect(signal).toBe(null)
      expect(output).toContain("committed")
      expect(yield* counts(filename)).toEqual({ total: 21_000, pending1: 1000, checkpoint: ["!done:example.org"] })
    }), 60_000)
})

describe("SQLite files that are not a healthy store of ours", () => {
  const openReason = (filename: string) =>
    Effect.map(Effect.flip(Effect.scoped(Effect.provide(BackupStore.BackupStore, layer({ filename })))), (e) => e.reason)

  it.effect("random bytes give Corrupt", () => {
    const filename = join(dir, "random.sqlite")
    writeFileSync(filename, randomBytes(64 * 1024))
    return Effect.map(openReason(filename), (reason) => expect(reason).toBe("Corrupt"))
  })

  it.effect("another application's database gives Foreign and is left untouched", () => {
    const filename = join(dir, "foreign.sqlite")
    const db = new Database(filename)
    db.exec("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    db.close()
    return Effect.gen(function* () {
      expect(yield* openReason(filename)).toBe("Foreign")
      const again = new Database(filename)
      expect(again.pragma("journal_mode", { simple: true })).toBe("delete")
      expect(again.pragma("user_version", { simple: true })).toBe(0)
      again.close()
    })
  })

  it.effect("a store from a newer schema version gives Migration", () => {
    const filename = join(dir, "newer.sqlite")
    const db = new Database(filename)
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma("user_version = 99")
    db.close()
    return Effect.map(openReason(filename), (reason) => expect(reason).toBe("Migration"))
  })

  it.effect("damaged pages (header intact) give Corrupt, on open or on the first read of them", () =>
    Effect.gen(function* () {
      const filename = join(dir, "damaged.sqlite")
      const keys = Array.from({ length: 2000 }, (_, i) => ({
        roomId: "!r:example.org", sessionId: `s${i}`, algorithm: "m.megolm.v1.aes-sha2" as const, senderKey: "k",
        sessionKey: "AQAAAA".padEnd(220, "x"), senderClaimedKeys: {}, forwardingCurve25519KeyChain: [],
        firstKnownIndex: 0, sharedHistory: false, imported: false,
      }))
      yield* Effect.flatMap(BackupStore.BackupStore, (s) => s.upsertRoomKeys(keys)).pipe(Effect.provide(layer({ filename })))
      const bytes = readFileSync(filename)
      expect(bytes.length).toBeGreaterThan(8 * 4096)
      randomBytes(bytes.length - 2 * 4096).copy(bytes, 2 * 4096)
      writeFileSync(filename, bytes)
      const result = yield* Effect.flatMap(BackupStore.BackupStore, (s) =>
        Effect.zipRight(s.countTotal(), Stream.runDrain(s.exportRoomKeys())),
      ).pipe(Effect.provide(layer({ filename })), Effect.flip)
      expect(result.reason).toBe("Corrupt")
      expect(result.message).not.toContain("AQAAAA")
    }))

  it.effect("a closed store gives Closed", () =>
    Effect.gen(function* () {
      const filename = join(dir, "closed.sqlite")
      const db = yield* openDatabase(filename)
      db.close()
      const store = yield* Effect.scoped(Effect.provide(BackupStore.BackupStore, layer({ filename })))
      expect((yield* Effect.flip(store.countTotal())).reason).toBe("Closed")
    }))
})

describe("SQLite query plans", () => {
  it.effect("pending queries walk the backed_up_to index and counts read the counters table", () =>
    Effect.gen(function* () {
      const db = yield* openDatabase(join(dir, "plans.sqlite"))
      const plan = (sql: string) =>
        db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all("1", 10).map((row) => JSON.stringify(row)).join("\n")
      const cols = "room_id, session_id, first_known_index, backed_up_to, revision, data"
      for (const where of ["backed_up_to < ?", "backed_up_to > ?"]) {
        const text = plan(`SELECT ${cols} FROM room_keys WHERE ${where} ORDER BY backed_up_to, id LIMIT ?`)
        expect(text).toContain("USING INDEX room_keys_backed_up_to")
        expect(text).not.toContain("TEMP B-TREE")
      }
      const nulls = db.prepare(`EXPLAIN QUERY PLAN SELECT ${cols} FROM room_keys WHERE backed_up_to IS NULL ORDER BY id LIMIT ?`)
      expect(JSON.stringify(nulls.all(10))).toContain("USING INDEX room_keys_backed_up_to")
      db.close()
    }))
})
