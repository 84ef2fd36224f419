/**
 * The RoomKeySink port: where a restore delivers decrypted room keys, batch by batch, with the backup version they
 * came from (so the receiver marks them backed up to it, PROTOCOL.md §8.4). The BackupStore is the default sink.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { RoomKey } from "../schema/RoomKey.js"
import type { StorageError } from "../store/StorageError.js"
import { BackupStore } from "./BackupStore.js"

/** One decrypted batch, in server order. `completedRooms` are rooms this batch finished (a resume checkpoint). */
export interface RoomKeyBatch {
  readonly version: string
  readonly keys: ReadonlyArray<RoomKey>
  readonly completedRooms: ReadonlyArray<string>
}

/** A sink other than the store refused a batch. Its message is the sink's own words, never key material. */
export class RoomKeySinkError extends Data.TaggedError("RoomKeySinkError")<{
  readonly message: string
}> {}

/** What a sink fails with: the store's error, or any other sink's. */
export type SinkError = StorageError | RoomKeySinkError

/** The service. A sink without checkpoints returns an empty set from `completedRooms` and ignores the rest. */
export class RoomKeySink extends Context.Tag("@matrix-backup/core/RoomKeySink")<
  RoomKeySink,
  {
    /** Rooms an earlier, interrupted restore of `version` completed; their sessions are skipped. */
    readonly completedRooms: (version: string) => Effect.Effect<ReadonlySet<string>, SinkError>
    /** Takes one batch; the keys count as backed up to `batch.version`. */
    readonly importBatch: (batch: RoomKeyBatch) => Effect.Effect<void, SinkError>
    /** A whole-backup restore of `version` finished: checkpoints may go. */
    readonly restoreFinished: (version: string) => Effect.Effect<void, SinkError>
  }
>() {}

/** The store-backed sink: keys, "backed up to V" flags and per-room checkpoints in one transaction per batch. */
export const fromBackupStore = (store: Context.Tag.Service<BackupStore>): Context.Tag.Service<RoomKeySink> => ({
  completedRooms: (version) => store.getRestoreCheckpoint(version),
  importBatch: ({ version, keys, completedRooms }) => {
    if (keys.length === 0 && completedRooms.length === 0) return Effect.void
    const checkpoint = completedRooms.length > 0 ? { checkpoint: { version, rooms: completedRooms } } : {}
    return Effect.asVoid(store.upsertRoomKeys(keys, { backedUpTo: version, ...checkpoint }))
  },
  restoreFinished: (version) => store.clearRestoreCheckpoint(version),
})

/** A sink with no checkpoints that hands each non-empty batch to `importKeys`. */
export const make = (importKeys: (batch: RoomKeyBatch) => Effect.Effect<void, SinkError>): Context.Tag.Service<RoomKeySink> => ({
  completedRooms: () => Effect.succeed(new Set<string>()),
  importBatch: (batch) => (batch.keys.length === 0 ? Effect.void : importKeys(batch)),
  restoreFinished: () => Effect.void,
})

/** The store-backed sink as a layer. */
export const layerBackupStore: Layer.Layer<RoomKeySink, never, BackupStore> = Layer.effect(
  RoomKeySink,
  Effect.map(BackupStore, fromBackupStore),
)
