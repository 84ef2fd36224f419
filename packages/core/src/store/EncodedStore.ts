/**
 * Lifts a store adapter's narrow `Encoded` table interface into the `BackupStore` service: the record codec,
 * validation, export paging and sealed secrets are written once here, not in every adapter.
 */
import { Chunk, Effect, Either, Option, Redacted, Schema, Stream } from "effect"
import type { Context } from "effect"
import { wipe } from "../crypto/Bytes.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { BackupStore, StoreOptions } from "../services/BackupStore.js"
import { decodeBackupKey, encodeBackupKey } from "./BackupKeyCodec.js"
import type { Encoded, ExportCursor } from "./Encoded.js"
import { decodeRoomKey, decodeRow, encodeRoomKey } from "./RecordCodec.js"
import { makeSecrets } from "./Secrets.js"
import { StorageError } from "./StorageError.js"

export type { Checkpoint, Encoded, EncodedRoomKey, EncodedRow, ExportCursor, RoomKeyRef, UpsertCounts } from "./Encoded.js"

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
