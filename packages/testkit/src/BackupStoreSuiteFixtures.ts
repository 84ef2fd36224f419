/**
 * Fixtures of the BackupStore conformance suite: deterministic room keys, a seeded generator and a
 * model of what the counts must be.
 */
import { type BackupStore, RoomKey } from "@matrix-backup/core"
import { type Context, Effect, Stream } from "effect"

/** The service the suite exercises. */
export type Store = Context.Tag.Service<BackupStore.BackupStore>

/** A room key whose session key names its copy, so a test can tell which copy was kept. */
export const roomKey = (room: string, session: string, firstKnownIndex: number, copy = "a"): RoomKey.RoomKey => ({
  roomId: `!${room}:example.org`,
  sessionId: session,
  algorithm: RoomKey.MEGOLM_V1_AES_SHA2,
  senderKey: "senderCurve25519Key",
  sessionKey: `AQAAAA${session}.${firstKnownIndex}.${copy}`,
  senderClaimedKeys: { ed25519: "senderEd25519Key" },
  forwardingCurve25519KeyChain: [],
  firstKnownIndex,
  sharedHistory: false,
  imported: false,
})

/** `n` keys spread over `rooms` rooms, sessions named `<prefix><i>`. */
export const manyKeys = (n: number, prefix = "s", rooms = 3): Array<RoomKey.RoomKey> =>
  Array.from({ length: n }, (_, i) => roomKey(`room${i % rooms}`, `${prefix}${String(i).padStart(6, "0")}`, i % 7))

/** A small seeded generator (LCG), so the randomised tests replay exactly. */
export const seeded = (seed: number) => {
  let state = seed >>> 0
  return (bound: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state % bound
  }
}

/** What the store should hold: per key, its first index and the version it is backed up to. */
export class Model {
  readonly rows = new Map<string, { index: number; backedUpTo: string | null }>()
  static id = (key: { readonly roomId: string; readonly sessionId: string }) => `${key.roomId}|${key.sessionId}`

  upsert(keys: ReadonlyArray<RoomKey.RoomKey>, backedUpTo: string | null): void {
    for (const key of keys) {
      const row = this.rows.get(Model.id(key))
      if (row === undefined || key.firstKnownIndex < row.index) {
        this.rows.set(Model.id(key), { index: key.firstKnownIndex, backedUpTo })
      } else if (key.firstKnownIndex === row.index && backedUpTo !== null) {
        row.backedUpTo = backedUpTo
      }
    }
  }

  mark(version: string, keys: ReadonlyArray<{ readonly roomId: string; readonly sessionId: string }>): void {
    for (const key of keys) {
      const row = this.rows.get(Model.id(key))
      if (row !== undefined) row.backedUpTo = version
    }
  }

  pending(version: string): number {
    let n = 0
    for (const row of this.rows.values()) if (row.backedUpTo !== version) n++
    return n
  }
}

/** Asserts the store's counters equal the model's for every version given; returns the mismatches. */
export const countsOf = (
  store: Store,
  versions: ReadonlyArray<string>,
): Effect.Effect<Record<string, number>, BackupStore.StorageError> =>
  Effect.gen(function* () {
    const out: Record<string, number> = { total: yield* store.countTotal() }
    for (const v of versions) out[v] = yield* store.countPending(v)
    return out
  })

/** The model's counts in the shape of `countsOf`. */
export const modelCounts = (model: Model, versions: ReadonlyArray<string>): Record<string, number> => {
  const out: Record<string, number> = { total: model.rows.size }
  for (const v of versions) out[v] = model.pending(v)
  return out
}

/** Takes every pending key of `version` in batches and marks it; returns how many were marked. */
export const uploadAll = (store: Store, version: string, batch = 100) =>
  Effect.gen(function* () {
    let marked = 0
    for (;;) {
      const pending = yield* store.pendingRoomKeys(version, batch)
      if (pending.length === 0) return marked
      marked += yield* store.markBackedUp(version, pending)
    }
  })

/** Every key of an export stream. */
export const exportAll = (store: Store, rooms?: ReadonlyArray<string>) =>
  Stream.runCollect(store.exportRoomKeys(rooms === undefined ? {} : { rooms })).pipe(Effect.map((c) => [...c]))
