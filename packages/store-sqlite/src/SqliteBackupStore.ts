/**
 * The BackupStore port over SQLite (better-sqlite3): WAL, synchronous=NORMAL, prepared statements,
 * one transaction per batch, versioned migrations. A damaged or foreign file is a typed error.
 */
import { BackupStore } from "@matrix-backup/core"
import { EncodedStore } from "@matrix-backup/core/adapter"
import { Effect, Layer, type Redacted, type Scope } from "effect"
import { makeSqliteEncoded } from "./SqliteEncoded.js"
import { openDatabase, runOn } from "./SqliteOpen.js"

export { toStorageError } from "./SqliteOpen.js"

type StorageError = BackupStore.StorageError

/** Where the database lives and the optional key that seals stored secrets. */
export interface Options {
  readonly filename: string
  readonly atRestKey?: Redacted.Redacted<Uint8Array>
}

/** The adapter's `Encoded` over a file, closed with the scope. */
export const openEncoded = (options: Options): Effect.Effect<EncodedStore.Encoded, StorageError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(openDatabase(options.filename), (db) => Effect.sync(() => db.close())),
    (db) => makeSqliteEncoded(db, runOn(db)),
  )

/** The BackupStore service over an SQLite file. */
export const layer = (options: Options): Layer.Layer<BackupStore.BackupStore, StorageError> =>
  Layer.scoped(
    BackupStore.BackupStore,
    Effect.map(openEncoded(options), (encoded) => EncodedStore.makeEncoded(encoded, options)),
  )
