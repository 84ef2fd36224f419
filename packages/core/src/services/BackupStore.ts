/**
 * The BackupStore port: room keys with their "backed up to version V" flag, counters that make counting
 * O(1), restore checkpoints, backup state and (optionally encrypted) secrets. Adapters implement the
 * narrow `Encoded` interface; `makeEncoded` lifts it into the service (DESIGN.md §3, PROTOCOL.md §8.4).
 */
import { Chunk, Context, Effect, Either, Layer, Option, Redacted, Schema, Stream } from "effect"
import { wipe } from "../crypto/Bytes.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { Checkpoint, Encoded, ExportCursor, RoomKeyRef, UpsertCounts } from "../store/Encoded.js"
import { makeMemoryEncoded } from "../store/MemoryEncoded.js"
import { decodeBackupKey, encodeBackupKey } from "../store/BackupKeyCodec.js"
import { decodeRoomKey, decodeRow, encodeRoomKey } from "../store/RecordCodec.js"
import { makeSecrets } from "../store/Secrets.js"
import { StorageError } from "../store/StorageError.js"

export type { Checkpoint, Encoded, EncodedRoomKey, EncodedRow, ExportCursor, RoomKeyRef, UpsertCounts } from "../store/Encoded.js"
export { applyUpsert, CounterDelta, decideMerge, type MergeAction, type StoredState, type UpsertTarget } from "../store/Merge.js"
export { applyMark, type MarkTarget, mayMark } from "../store/Mark.js"
export { makeMemoryEncoded } from "../store/MemoryEncoded.js"
export { decodeRoomKey, encodeRoomKey } from "../store/RecordCodec.js"
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

/** Rows per page of `exportRoomKeys`. */
export const EXPORT_PAGE_SIZE = 1000
const STATE_NAME = "backup.state"
const BACKUP_KEY_NAME = "backup.decryptionKey"
const secretStorageName = (keyId: string) => `secretStorage.key.${keyId}`

const BackupStateJson = Schema.parseJson(
  Schema.Struct({ activeVersion: Schema.NullOr(Schema.String), backupInfo: Schema.Unknown }),
)
const decodeState = Schema.decodeUnknownEither(BackupStateJson)

const badVersion = new StorageError({ reason: "Constraint", message: "A backup version must be a non-empty string" })
const checkVersion = (version: string) => (version.length > 0 ? Effect.void : Effect.fail(badVersion))

const validKey = (key: RoomKey) =>
  typeof key.roomId === "string" &&
  key.roomId.length > 0 &&
  typeof key.sessionId === "string" &&
  key.sessionId.length > 0 &&
  Number.isSafeInteger(key.firstKnownIndex) &&
  key.firstKnownIndex >= 0
const checkKeys = (keys: ReadonlyArray<RoomKey>) => {
  const bad = keys.findIndex((key) => !validKey(key))
  return bad < 0
    ? Effect.void
    : Effect.fail(new StorageError({ reason: "Constraint", message: `Room key #${bad} has an empty id or an invalid first index` }))
}

const decodeAll = <A>(rows: ReadonlyArray<A>, decode: (row: A) => Either.Either<RoomKey, StorageError>) =>
  Effect.forEach(rows, (row) => decode(row))

/** Lifts an adapter's `Encoded` into the service: codec, validation, export paging, sealed secrets. */
export const makeEncoded = (encoded: Encoded, options: StoreOptions = {}): Context.Tag.Service<BackupStore> => {
  const secrets = makeSecrets(encoded, options.atRestKey)
  const exportRoom = (room: string | null): Stream.Stream<RoomKey, StorageError> =>
    Stream.paginateChunkEffect<ExportCursor | null, RoomKey, StorageError, never>(null, (cursor) =>
      Effect.flatMap(encoded.exportPage(cursor, EXPORT_PAGE_SIZE, room), (rows) => {
        const last = rows[rows.length - 1]
        const next = rows.length < EXPORT_PAGE_SIZE || last === undefined ? Option.none() : Option.some(last)
        return Effect.map(decodeAll(rows, decodeRoomKey), (keys) => [Chunk.fromIterable(keys), next] as const)
      }),
    )
  return {
    upsertRoomKeys: (keys, opts = {}) =>
      Effect.gen(function* () {
        if (opts.backedUpTo !== undefined) yield* checkVersion(opts.backedUpTo)
        if (opts.checkpoint !== undefined) yield* checkVersion(opts.checkpoint.version)
        yield* checkKeys(keys)
        const rows = yield* Effect.try({
          try: () => keys.map(encodeRoomKey),
          catch: () => new StorageError({ reason: "Constraint", message: "A room key's extra fields are not JSON-serialisable" }),
        })
        return yield* encoded.upsertRoomKeys(rows, opts.backedUpTo ?? null, opts.checkpoint ?? null)
      }).pipe(Effect.withSpan("BackupStore.upsertRoomKeys", { attributes: { keys: keys.length } })),
    pendingRoomKeys: (version, limit) =>
      Effect.zipRight(
        checkVersion(version),
        limit < 1
          ? Effect.succeed([])
          : Effect.flatMap(encoded.pendingRoomKeys(version, Math.floor(limit)), (rows) => Effect.forEach(rows, decodeRow)),
      ),
    markBackedUp: (version, refs) =>
      Effect.zipRight(checkVersion(version), refs.length === 0 ? Effect.succeed(0) : encoded.markBackedUp(version, refs)),
    countPending: (version) => Effect.zipRight(checkVersion(version), encoded.countPending(version)),
    countTotal: () => encoded.countTotal,
    getRoomKey: (roomId, sessionId) =>
      Effect.flatMap(encoded.getRoomKey(roomId, sessionId), (row) =>
        row === undefined
          ? Effect.succeed(Option.none())
          : Effect.map(decodeRow(row), ({ revision: _revision, ...key }) => Option.some(key)),
      ),
    exportRoomKeys: (opts = {}) =>
      opts.rooms === undefined
        ? exportRoom(null)
        : Stream.flatMap(Stream.fromIterable([...new Set(opts.rooms)].sort()), exportRoom),
    getBackupState: () =>
      Effect.flatMap(encoded.getValue(STATE_NAME), (text) => {
        if (text === undefined) return Effect.succeed({ activeVersion: null, backupInfo: null })
        return Either.match(decodeState(text), {
          onLeft: () => Effect.fail(new StorageError({ reason: "Corrupt", message: "Stored backup state is damaged" })),
          onRight: (state) => Effect.succeed({ activeVersion: state.activeVersion, backupInfo: state.backupInfo ?? null }),
        })
      }),
    setBackupState: (state) =>
      Effect.try({
        try: () => JSON.stringify({ activeVersion: state.activeVersion, backupInfo: state.backupInfo }),
        catch: () => new StorageError({ reason: "Constraint", message: "The backup info is not JSON-serialisable" }),
      }).pipe(Effect.flatMap((text) => encoded.setValue(STATE_NAME, text))),
    storeBackupDecryptionKey: (key, version) =>
      Effect.zipRight(
        checkVersion(version),
        Effect.acquireUseRelease(Effect.sync(() => encodeBackupKey(Redacted.value(key), version)), (plain) =>
          secrets.write(BACKUP_KEY_NAME, plain), (plain) => Effect.sync(() => wipe(plain))),
      ),
    getBackupDecryptionKey: () =>
      Effect.flatMap(secrets.read(BACKUP_KEY_NAME), (plain) =>
        Option.match(plain, {
          onNone: () => Effect.succeed(Option.none()),
          onSome: (bytes) => Effect.map(Effect.ensuring(decodeBackupKey(bytes), Effect.sync(() => wipe(bytes))), Option.some),
        }),
      ),
    clearBackupDecryptionKey: () => secrets.remove(BACKUP_KEY_NAME),
    getRestoreCheckpoint: (version) => Effect.map(encoded.getCheckpoint(version), (rooms) => new Set(rooms)),
    clearRestoreCheckpoint: (version) => encoded.clearCheckpoint(version),
    cacheSecretStorageKey: (keyId, key) => secrets.write(secretStorageName(keyId), Redacted.value(key)),
    getCachedSecretStorageKey: (keyId) =>
      Effect.map(secrets.read(secretStorageName(keyId)), Option.map((bytes) => Redacted.make(bytes))),
  }
}

/** A layer over any `Encoded` (used by the adapters and by tests that reopen the same tables). */
export const layerEncoded = (encoded: Encoded, options: StoreOptions = {}): Layer.Layer<BackupStore> =>
  Layer.succeed(BackupStore, makeEncoded(encoded, options))

/** A fresh in-memory store, for tests and ephemeral use. */
export const layerMemory: Layer.Layer<BackupStore> = Layer.sync(BackupStore, () => makeEncoded(makeMemoryEncoded()))
