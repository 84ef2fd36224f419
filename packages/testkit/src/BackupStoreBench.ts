// Benchmark steps shared by the BackupStore adapters' bench scripts (not tests): import, count,
// take-and-mark, switch version, count again; prints one line per step. No vitest import, so scripts can use it.
import { BackupStore, RoomKey } from "@matrix-backup/core"
import { Effect } from "effect"

const key = (i: number): RoomKey.RoomKey => ({
  roomId: `!room${i % 500}:example.org`,
  sessionId: `session${String(i).padStart(8, "0")}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
  algorithm: RoomKey.MEGOLM_V1_AES_SHA2,
  senderKey: "7pJ8WzlQwXcM3J0mH0GkD9Gq1TjzUQ0fDqQ5tKzX3EI",
  sessionKey: `AQAAAA${"Ab3d".repeat(53)}${String(i).padStart(8, "0")}`,
  senderClaimedKeys: { ed25519: "b3Q2qJ7n0yS6bHfCq2hX4wE5rT8uI9oP0aSdFgHjKlM" },
  forwardingCurve25519KeyChain: [],
  firstKnownIndex: i % 3,
  sharedHistory: i % 2 === 0,
  imported: false,
})

/** Median time of `runs` calls of `effect`, in ms. */
const median = <A, E, R>(effect: Effect.Effect<A, E, R>, runs: number) =>
  Effect.gen(function* () {
    const times: Array<number> = []
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      yield* effect
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    return times[Math.floor(times.length / 2)] ?? 0
  })

const rss = () => (typeof process === "undefined" ? "no RSS in a browser" : `${(process.memoryUsage().rss / 1e6).toFixed(0)} MB RSS`)

/** Import `n` keys, count, upload (take and mark), switch version, count again. */
export const benchStore = (label: string, n: number, importBatch = 1000, uploadBatch = 100) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const t0 = performance.now()
    for (let start = 0; start < n; start += importBatch) {
      const batch = Array.from({ length: Math.min(importBatch, n - start) }, (_, j) => key(start + j))
      yield* store.upsertRoomKeys(batch)
    }
    const importMs = performance.now() - t0
    console.log(`${label}: import ${n} keys in batches of ${importBatch}: ${(importMs / 1000).toFixed(2)} s = ${Math.round(n / (importMs / 1000))} keys/s (${rss()})`)
    const pending = yield* store.countPending("1")
    const countMs = yield* median(store.countPending("1"), 201)
    console.log(`${label}: countPending("1") = ${pending}: median ${countMs.toFixed(4)} ms; countTotal median ${(yield* median(store.countTotal(), 201)).toFixed(4)} ms`)
    const t1 = performance.now()
    let marked = 0
    let takeMs = 0
    for (;;) {
      const t = performance.now()
      const taken = yield* store.pendingRoomKeys("1", uploadBatch)
      takeMs += performance.now() - t
      if (taken.length === 0) break
      marked += yield* store.markBackedUp("1", taken)
    }
    const markMs = performance.now() - t1
    const rate = Math.round(marked / (markMs / 1000))
    console.log(`${label}: take-and-mark ${marked} keys in batches of ${uploadBatch}: ${(markMs / 1000).toFixed(2)} s = ${rate} keys/s (taking ${(takeMs / 1000).toFixed(2)} s of it); pending now ${yield* store.countPending("1")}`)
    const t2 = performance.now()
    yield* store.setBackupState({ activeVersion: "2", backupInfo: { version: "2" } })
    const afterSwitch = yield* store.countPending("2")
    const firstPage = yield* store.pendingRoomKeys("2", uploadBatch)
    const switchMs = performance.now() - t2
    console.log(`${label}: switch to version "2" + countPending("2") = ${afterSwitch} + first page of ${firstPage.length}: ${switchMs.toFixed(3)} ms (${rss()})`)
  })
