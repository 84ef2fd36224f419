/**
 * The narrow interface a storage backend implements for the BackupStore port: strings, numbers and rows.
 * Core (`makeEncoded`) lifts it into the typed service: record codec, at-rest encryption, validation.
 */
import type { Effect } from "effect"
import type { StorageError } from "./StorageError.js"

/** A room key as stored: the indexed columns plus the encoded record (`RecordCodec`). */
export interface EncodedRoomKey {
  readonly roomId: string
  readonly sessionId: string
  readonly firstKnownIndex: number
  readonly data: string
}

/** A stored row: `backedUpTo` is the backup version this copy was uploaded to (or restored from). */
export interface EncodedRow extends EncodedRoomKey {
  readonly backedUpTo: string | null
  readonly revision: number
}

/** Identifies one stored copy; `revision` changes whenever the copy is replaced. */
export interface RoomKeyRef {
  readonly roomId: string
  readonly sessionId: string
  readonly revision: number
}

/** Rooms of a restore version that are complete; written with the keys of the same batch. */
export interface Checkpoint {
  readonly version: string
  readonly rooms: ReadonlyArray<string>
}

/** What one upsert batch did; the three add up to the number of keys given. */
export interface UpsertCounts {
  readonly inserted: number
  readonly replaced: number
  readonly kept: number
}

/** Position after which an export page starts (rows are ordered by room, then session). */
export interface ExportCursor {
  readonly roomId: string
  readonly sessionId: string
}

/** What an adapter implements. Every method is one transaction of the backend. */
export interface Encoded {
  /** Merges the batch with `applyUpsert` (Merge.ts) inside ONE transaction, checkpoint included. */
  readonly upsertRoomKeys: (
    keys: ReadonlyArray<EncodedRoomKey>,
    backedUpTo: string | null,
    checkpoint: Checkpoint | null,
  ) => Effect.Effect<UpsertCounts, StorageError>
  /** Up to `limit` rows whose `backedUpTo` is not `version`, in an order that is stable between calls. */
  readonly pendingRoomKeys: (version: string, limit: number) => Effect.Effect<ReadonlyArray<EncodedRow>, StorageError>
  /** Sets `backedUpTo = version` on each referenced row whose revision is unchanged; returns rows changed. */
  readonly markBackedUp: (version: string, refs: ReadonlyArray<RoomKeyRef>) => Effect.Effect<number, StorageError>
  /** Rows not backed up to `version`, from counters (never a scan). */
  readonly countPending: (version: string) => Effect.Effect<number, StorageError>
  /** All rows, from counters (never a scan). */
  readonly countTotal: Effect.Effect<number, StorageError>
  /** The stored row of one session (undefined: absent). */
  readonly getRoomKey: (roomId: string, sessionId: string) => Effect.Effect<EncodedRow | undefined, StorageError>
  /** Up to `limit` rows after `after` in (room, session) order, only of `room` when given. */
  readonly exportPage: (
    after: ExportCursor | null,
    limit: number,
    room: string | null,
  ) => Effect.Effect<ReadonlyArray<EncodedRow>, StorageError>
  /** A small named value (backup state, sealed secrets); `undefined` when absent. */
  readonly getValue: (name: string) => Effect.Effect<string | undefined, StorageError>
  /** Writes or (with `undefined`) deletes a named value. */
  readonly setValue: (name: string, value: string | undefined) => Effect.Effect<void, StorageError>
  /** The rooms a restore of `version` has finished (its resume point). */
  readonly getCheckpoint: (version: string) => Effect.Effect<ReadonlyArray<string>, StorageError>
  /** Forgets the restore checkpoint of `version`. */
  readonly clearCheckpoint: (version: string) => Effect.Effect<void, StorageError>
}
