// Benchmark (prints figures, asserts nothing): import N keys in batches of 1,000, count pending,
// take-and-mark everything in batches of 100, switch the backup version and count again.
// Usage: node ../../scripts/run-ts.mjs bench/SqliteBench.ts [keys=100000] [more sizes...]
import Database from "better-sqlite3"
import { Effect } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layer } from "../src/SqliteBackupStore.js"
import { benchStore } from "@matrix-backup/testkit/BackupStoreBench"

const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number)

for (const n of sizes.length > 0 ? sizes : [100_000]) {
  const dir = mkdtempSync(join(tmpdir(), "mb-sqlite-bench-"))
  const filename = join(dir, "bench.sqlite")
  await Effect.runPromise(benchStore(`sqlite ${n}`, n).pipe(Effect.provide(layer({ filename }))))
  const db = new Database(filename, { readonly: true })
  const t0 = performance.now()
  db.prepare("SELECT count(*) FROM room_keys WHERE backed_up_to IS NOT ?").pluck().get("3")
  const scanMs = performance.now() - t0
  db.close()
  console.log(`  for comparison, a counting scan (what we avoid): ${scanMs.toFixed(1)} ms; file ${(statSync(filename).size / 1e6).toFixed(0)} MB`)
  rmSync(dir, { recursive: true, force: true })
}
