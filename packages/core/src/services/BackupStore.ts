/**
 * The BackupStore port: room keys with their "backed up to version V" flag, counters that make counting
 * O(1), restore checkpoints, backup state and (optionally encrypted) secrets. Adapters implement the
 * narrow `Encoded` interface and lift it with `EncodedStore.makeEncoded` from `@matrix-backup/core/adapter`
 * (DESIGN.md §3, PROTOCOL.md §8.4).
 */
import { Context, Layer } from "effect"
import type { Effect, Option, Redacted, Stream } from "effect"
import type { RoomKey } from "../schema/RoomKey.js"
import type { Checkpoint, Encoded, RoomKeyRef, UpsertCounts } from "../store/Encoded.js"
import { makeEncoded } from "../store/EncodedStore.js"
import { makeMemoryEncoded } from "../store/MemoryEncoded.js"
import type { StorageError } from "../store/StorageError.js"

export type { Checkpoint, RoomKeyRef, UpsertCounts } from "../store/Encoded.js"
export { StorageError, type StorageErrorReason } from "../store/StorageError.js"

/** A key waiting for upload; `revision` guards `markBackedUp` against a copy replaced meanwhile. */
export type PendingRoomKey = RoomKey & { readonly revision: number }
/** A stored key with the version it is backed up to. */
export type StoredRoomKey = RoomKey & { readonly backedUpTo: string | null }
/** The active backup version and the cached raw backup info JSON. */
export interface BackupState {
  readonly activeVersion: string | null
  readonly backupInfo: unknown | null
}
/** Options of `upsertRoomKeys`: the restore version the keys come from and the rooms it completed. */
export interface UpsertOptions {
  readonly backedUpTo?: string
  readonly checkpoint?: Checkpoint
}
/** Options every store layer takes. */
export interface StoreOptions {
  /** 32-byte key that seals the stored secrets (AES-256-GCM); the app keeps it (e.g. in the OS keychain). */
  readonly atRestKey?: Redacted.Redacted<Uint8Array>
}

/** The service. Every method fails only with `StorageError`. */
export class BackupStore extends Context.Tag("@matrix-backup/core/BackupStore")<
  BackupStore,
  {
    readonly upsertRoomKeys: (
      keys: ReadonlyArray<RoomKey>,
      options?: UpsertOptions,
    ) => Effect.Effect<UpsertCounts, StorageError>
    readonly pendingRoomKeys: (version: string, limit: number) => Effect.Effect<ReadonlyArray<PendingRoomKey>, StorageError>
    readonly markBackedUp: (version: string, refs: ReadonlyArray<RoomKeyRef>) => Effect.Effect<number, StorageError>
    readonly countPending: (version: string) => Effect.Effect<number, StorageError>
    readonly countTotal: () => Effect.Effect<number, StorageError>
    readonly getRoomKey: (roomId: string, sessionId: string) => Effect.Effect<Option.Option<StoredRoomKey>, StorageError>
    readonly exportRoomKeys: (options?: { readonly rooms?: ReadonlyArray<string> }) => Stream.Stream<RoomKey, StorageError>
    readonly getBackupState: () => Effect.Effect<BackupState, StorageError>
    readonly setBackupState: (state: BackupState) => Effect.Effect<void, StorageError>
    readonly storeBackupDecryptionKey: (key: Redacted.Redacted<Uint8Array>, version: string) => Effect.Effect<void, StorageError>
    readonly getBackupDecryptionKey: () => Effect.Effect<
      Option.Option<{ readonly key: Redacted.Redacted<Uint8Array>; readonly version: string }>,
      StorageError
    >
    readonly clearBackupDecryptionKey: () => Effect.Effect<void, StorageError>
    readonly getRestoreCheckpoint: (version: string) => Effect.Effect<ReadonlySet<string>, StorageError>
    readonly clearRestoreCheckpoint: (version: string) => Effect.Effect<void, StorageError>
    readonly cacheSecretStorageKey: (keyId: string, key: Redacted.Redacted<Uint8Array>) => Effect.Effect<void, StorageError>
    readonly getCachedSecretStorageKey: (keyId: string) => Effect.Effect<Option.Option<Redacted.Redacted<Uint8Array>>, StorageError>
  }
>() {}

/** A layer over any `Encoded` (used by the adapters and by tests that reopen the same tables). */
export const layerEncoded = (encoded: Encoded, options: StoreOptions = {}): Layer.Layer<BackupStore> =>
  Layer.succeed(BackupStore, makeEncoded(encoded, options))

/** A fresh in-memory store, for tests and ephemeral use. */
export const layerMemory: Layer.Layer<BackupStore> = Layer.sync(BackupStore, () => makeEncoded(makeMemoryEncoded()))
