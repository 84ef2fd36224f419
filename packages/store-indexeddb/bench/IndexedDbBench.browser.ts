// Benchmark in real Chromium IndexedDB, run by vitest browser mode only because that is how a page
// gets here; it prints figures and asserts nothing. Run: pnpm run bench:browser (BENCH_KEYS=100000).
import { it } from "@effect/vitest"
import { benchStore } from "@matrix-backup/testkit/BackupStoreBench"
import { Effect } from "effect"
import { layer } from "../src/IndexedDbBackupStore.js"

declare const __BENCH_KEYS__: string
const n = Number(__BENCH_KEYS__)

it.live(`chromium IndexedDB benchmark, ${n} keys`, () =>
  benchStore(`chromium ${n}`, n).pipe(Effect.provide(layer({ name: `bench-${Date.now()}` }))), 900_000)
