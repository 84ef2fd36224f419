/**
 * Conformance suite for BackupStore adapters: every adapter runs `BackupStoreSuite.run` unchanged
 * (merge rule, pending/backed-up across version switches, revision guard, exact counts, checkpoints,
 * sealed secrets, concurrency, large batches, export, migration and reopen through adapter hooks).
 */
import { describe, expect, it } from "@effect/vitest"
import { BackupStore } from "@matrix-backup/core"
import type { Context } from "effect"
import { Effect, Option, type Layer } from "effect"
import { countsOf, exportAll, manyKeys, Model, modelCounts, roomKey, seeded, uploadAll } from "./BackupStoreSuiteFixtures.js"
import { runConcurrency, runLifecycle, type Hooks } from "./BackupStoreSuiteLifecycle.js"

export type { Hooks, Opener, SeedRow } from "./BackupStoreSuiteLifecycle.js"

type MakeLayer = () => Layer.Layer<BackupStore.BackupStore, BackupStore.StorageError>

/** Registers the suite under `name`; `makeLayer` must give a fresh, empty store on every call. */
export const run = (name: string, makeLayer: MakeLayer, hooks: Hooks = {}): void => {
  describe(`BackupStore conformance: ${name}`, () => {
    const withStore = <A, E>(body: (store: Context.Tag.Service<BackupStore.BackupStore>) => Effect.Effect<A, E>) =>
      Effect.flatMap(BackupStore.BackupStore, body).pipe(Effect.provide(makeLayer()))
    for (const group of [runMerge, runBatchAndRestore, runRestoreMarking, runInputChecks]) group(withStore)
    for (const group of [runPending, runRevisionGuard, runCheckpoints, runExport]) group(withStore)
    runConcurrency(withStore)
    runLifecycle(withStore, hooks)
  })
}

type WithStore = <A, E>(
  body: (store: Context.Tag.Service<BackupStore.BackupStore>) => Effect.Effect<A, E>,
) => Effect.Effect<A, E | BackupStore.StorageError>

const runMerge = (withStore: WithStore) => {
  it.effect("inserts, reads back and counts", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const keys = [roomKey("r1", "s1", 0), { ...roomKey("r1", "s2", 3), source: "file" as const, extra: { x: [1] } }]
        expect(yield* store.upsertRoomKeys(keys)).toEqual({ inserted: 2, replaced: 0, kept: 0 })
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 2, "1": 2 })
        expect(yield* store.getRoomKey("!r1:example.org", "s2")).toEqual(Option.some({ ...keys[1], backedUpTo: null }))
        expect(yield* store.getRoomKey("!r1:example.org", "nope")).toEqual(Option.none())
      }),
    ))

  it.effect("merge: a lower first index wins, a tie or a higher index keeps the stored copy", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys([roomKey("r", "s", 5, "first")])
        expect(yield* store.upsertRoomKeys([roomKey("r", "s", 5, "tie")])).toEqual({ inserted: 0, replaced: 0, kept: 1 })
        expect(yield* store.upsertRoomKeys([roomKey("r", "s", 9, "worse")])).toEqual({ inserted: 0, replaced: 0, kept: 1 })
        const kept = yield* store.getRoomKey("!r:example.org", "s")
        expect(Option.map(kept, (k) => k.sessionKey)).toEqual(Option.some("AQAAAAs.5.first"))
        expect(yield* store.upsertRoomKeys([roomKey("r", "s", 2, "better")])).toEqual({ inserted: 0, replaced: 1, kept: 0 })
        const better = yield* store.getRoomKey("!r:example.org", "s")
        expect(Option.map(better, (k) => [k.firstKnownIndex, k.sessionKey])).toEqual(Option.some([2, "AQAAAAs.2.better"]))
        expect(yield* store.countTotal()).toBe(1)
      }),
    ))

}

const runBatchAndRestore = (withStore: WithStore) => {
  it.effect("merge: copies of one session inside a batch are compared in order", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const batch = [roomKey("r", "s", 5, "a"), roomKey("r", "s", 3, "b"), roomKey("r", "s", 4, "c"), roomKey("r", "s", 3, "d")]
        expect(yield* store.upsertRoomKeys(batch)).toEqual({ inserted: 1, replaced: 1, kept: 2 })
        const stored = yield* store.getRoomKey("!r:example.org", "s")
        expect(Option.map(stored, (k) => k.sessionKey)).toEqual(Option.some("AQAAAAs.3.b"))
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 1, "1": 1 })
      }),
    ))

  it.effect("restore: keys written with backedUpTo are not pending for that version only", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys(manyKeys(10), { backedUpTo: "1" })
        expect(yield* countsOf(store, ["1", "2"])).toEqual({ total: 10, "1": 0, "2": 10 })
        expect(yield* store.pendingRoomKeys("1", 100)).toEqual([])
        expect((yield* store.pendingRoomKeys("2", 100)).length).toBe(10)
        const one = yield* store.getRoomKey("!room0:example.org", "s000000")
        expect(Option.map(one, (k) => k.backedUpTo)).toEqual(Option.some("1"))
      }),
    ))

}

const runRestoreMarking = (withStore: WithStore) => {
  it.effect("restore: an equal restored copy marks the stored one backed up; a worse one does not", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys([roomKey("r", "eq", 4, "local"), roomKey("r", "worse", 1, "local")])
        const counts = yield* store.upsertRoomKeys([roomKey("r", "eq", 4, "backup"), roomKey("r", "worse", 2, "backup")], {
          backedUpTo: "7",
        })
        expect(counts).toEqual({ inserted: 0, replaced: 0, kept: 2 })
        const eq = yield* store.getRoomKey("!r:example.org", "eq")
        expect(Option.map(eq, (k) => [k.sessionKey, k.backedUpTo])).toEqual(Option.some(["AQAAAAeq.4.local", "7"]))
        const worse = yield* store.getRoomKey("!r:example.org", "worse")
        expect(Option.map(worse, (k) => k.backedUpTo)).toEqual(Option.some(null))
        expect(yield* countsOf(store, ["7"])).toEqual({ total: 2, "7": 1 })
        yield* store.upsertRoomKeys([roomKey("r", "worse", 0, "backup")], { backedUpTo: "7" })
        expect(yield* countsOf(store, ["7"])).toEqual({ total: 2, "7": 0 })
      }),
    ))

  it.effect("a local better copy of a restored key is pending again", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys([roomKey("r", "s", 5)], { backedUpTo: "1" })
        expect(yield* store.countPending("1")).toBe(0)
        yield* store.upsertRoomKeys([roomKey("r", "s", 0, "local")])
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 1, "1": 1 })
      }),
    ))

}

const runInputChecks = (withStore: WithStore) => {
  it.effect("bad input fails with Constraint and writes nothing, checkpoint included", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const bad = [roomKey("r", "ok", 0), { ...roomKey("r", "bad", 0), firstKnownIndex: -1 }]
        const error = yield* Effect.flip(store.upsertRoomKeys(bad, { checkpoint: { version: "1", rooms: ["!r:example.org"] } }))
        expect(error.reason).toBe("Constraint")
        expect(error.message).not.toContain("AQAAAA")
        expect(yield* store.countTotal()).toBe(0)
        expect((yield* store.getRestoreCheckpoint("1")).size).toBe(0)
        expect((yield* Effect.flip(store.pendingRoomKeys("", 1))).reason).toBe("Constraint")
      }),
    ))
}

const runPending = (withStore: WithStore) => {
  it.effect("pending and backed up across version switches V1 -> V2 -> V1, rows never rewritten", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys(manyKeys(25))
        const first = yield* store.pendingRoomKeys("1", 10)
        expect(first.length).toBe(10)
        expect(yield* store.markBackedUp("1", first)).toBe(10)
        expect(yield* countsOf(store, ["1", "2"])).toEqual({ total: 25, "1": 15, "2": 25 })
        expect(yield* uploadAll(store, "1", 7)).toBe(15)
        expect(yield* countsOf(store, ["1", "2"])).toEqual({ total: 25, "1": 0, "2": 25 })
        expect(yield* uploadAll(store, "2")).toBe(25)
        expect(yield* countsOf(store, ["1", "2"])).toEqual({ total: 25, "1": 25, "2": 0 })
        expect((yield* store.pendingRoomKeys("1", 100)).length).toBe(25)
        expect(yield* uploadAll(store, "1")).toBe(25)
        expect(yield* countsOf(store, ["1", "2", "3"])).toEqual({ total: 25, "1": 0, "2": 25, "3": 25 })
      }),
    ))

  it.effect("pendingRoomKeys: stable order, honours the limit, pages are disjoint after marking", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys(manyKeys(30))
        yield* store.upsertRoomKeys(manyKeys(10, "b"), { backedUpTo: "0" })
        yield* store.upsertRoomKeys(manyKeys(10, "c"), { backedUpTo: "9" })
        const a = yield* store.pendingRoomKeys("5", 12)
        expect(yield* store.pendingRoomKeys("5", 12)).toEqual(a)
        expect(a.length).toBe(12)
        yield* store.markBackedUp("5", a)
        const b = yield* store.pendingRoomKeys("5", 100)
        expect(b.length).toBe(38)
        const ids = new Set(a.map(Model.id))
        expect(b.some((k) => ids.has(Model.id(k)))).toBe(false)
        expect(yield* store.pendingRoomKeys("5", 0)).toEqual([])
      }),
    ))

}

const runRevisionGuard = (withStore: WithStore) => {
  it.effect("markBackedUp skips a copy replaced after it was taken, then marks the new revision", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys([roomKey("r", "a", 5), roomKey("r", "b", 5)])
        const taken = yield* store.pendingRoomKeys("1", 10)
        yield* store.upsertRoomKeys([roomKey("r", "a", 1, "better")])
        expect(yield* store.markBackedUp("1", taken)).toBe(1)
        const left = yield* store.pendingRoomKeys("1", 10)
        expect(left.map((k) => [k.sessionId, k.sessionKey])).toEqual([["a", "AQAAAAa.1.better"]])
        expect(left[0]?.revision).not.toBe(taken.find((k) => k.sessionId === "a")?.revision)
        expect(yield* store.markBackedUp("1", left)).toBe(1)
        expect(yield* store.markBackedUp("1", left)).toBe(0)
        expect(yield* store.markBackedUp("1", [{ roomId: "!r:example.org", sessionId: "zz", revision: 1 }])).toBe(0)
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 2, "1": 0 })
      }),
    ))

  it.effect("counts stay exact after every operation of a random sequence", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const random = seeded(42)
        const model = new Model()
        const versions = ["1", "2", "3"]
        for (let step = 0; step < 60; step++) {
          const op = random(4)
          if (op < 2) {
            const keys = Array.from({ length: 1 + random(20) }, () => roomKey(`r${random(3)}`, `s${random(40)}`, random(6)))
            const backedUpTo = op === 1 ? (versions[random(3)] ?? null) : null
            yield* store.upsertRoomKeys(keys, backedUpTo === null ? {} : { backedUpTo })
            model.upsert(keys, backedUpTo)
          } else {
            const version = versions[random(3)] ?? "1"
            const taken = yield* store.pendingRoomKeys(version, 1 + random(15))
            expect(yield* store.markBackedUp(version, taken)).toBe(taken.length)
            model.mark(version, taken)
          }
          expect(yield* countsOf(store, versions)).toEqual(modelCounts(model, versions))
        }
        for (const v of versions) expect((yield* store.pendingRoomKeys(v, 1000)).length).toBe(model.pending(v))
      }),
    ))

}

const runCheckpoints = (withStore: WithStore) => {
  it.effect("checkpoints are written with their batch, accumulate and clear per version", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys([roomKey("a", "1", 0)], { backedUpTo: "3", checkpoint: { version: "3", rooms: ["!a:example.org"] } })
        yield* store.upsertRoomKeys([], { checkpoint: { version: "3", rooms: ["!b:example.org"] } })
        yield* store.upsertRoomKeys([roomKey("c", "1", 0)], { backedUpTo: "4", checkpoint: { version: "4", rooms: ["!c:example.org"] } })
        expect([...(yield* store.getRestoreCheckpoint("3"))].sort()).toEqual(["!a:example.org", "!b:example.org"])
        yield* store.clearRestoreCheckpoint("3")
        expect((yield* store.getRestoreCheckpoint("3")).size).toBe(0)
        expect([...(yield* store.getRestoreCheckpoint("4"))]).toEqual(["!c:example.org"])
      }),
    ))

  it.effect("large batch: 10,000 keys in one upsert, then exported completely in order", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const keys = manyKeys(10_000)
        expect(yield* store.upsertRoomKeys(keys)).toEqual({ inserted: 10_000, replaced: 0, kept: 0 })
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 10_000, "1": 10_000 })
        const all = yield* exportAll(store)
        expect(all.length).toBe(10_000)
        const ids = all.map(Model.id)
        expect(new Set(ids).size).toBe(10_000)
        expect([...ids].sort()).toEqual(ids)
        expect(yield* store.upsertRoomKeys(keys, { backedUpTo: "1" })).toEqual({ inserted: 0, replaced: 0, kept: 10_000 })
        expect(yield* countsOf(store, ["1"])).toEqual({ total: 10_000, "1": 0 })
      }),
    ), 120_000)

}

const runExport = (withStore: WithStore) => {
  it.effect("export: by room, across pages, nothing for an unknown room", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.upsertRoomKeys(manyKeys(2_500, "s", 5))
        const two = yield* exportAll(store, ["!room3:example.org", "!room1:example.org", "!room1:example.org"])
        expect(two.length).toBe(1_000)
        expect(new Set(two.map((k) => k.roomId))).toEqual(new Set(["!room1:example.org", "!room3:example.org"]))
        expect(yield* exportAll(store, ["!none:example.org"])).toEqual([])
        const first = (yield* exportAll(store, ["!room0:example.org"]))[0]
        expect(first).toEqual(roomKey("room0", "s000000", 0))
      }),
    ), 60_000)
}
