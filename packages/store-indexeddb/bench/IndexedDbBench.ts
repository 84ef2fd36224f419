// Benchmark (prints figures, asserts nothing) over fake-indexeddb in Node: import N keys in batches
// of 1,000, count, take-and-mark in batches of 100, switch version, count again.
// Usage: node ../../scripts/run-ts.mjs bench/IndexedDbBench.ts [keys=100000]   (Chromium: pnpm run bench:browser)
import "fake-indexeddb/auto"
import { benchStore } from "@matrix-backup/testkit/BackupStoreBench"
import { Effect } from "effect"
import { layer } from "../src/IndexedDbBackupStore.js"

const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number)
for (const n of sizes.length > 0 ? sizes : [100_000]) {
  await Effect.runPromise(benchStore(`fake-indexeddb ${n}`, n).pipe(Effect.provide(layer({ name: `bench-${n}` }))))
}
