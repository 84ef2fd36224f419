/**
 * The BackupStore port over IndexedDB (browsers; fake-indexeddb in Node): versioned upgrades, an
 * index for pending queries, counters updated in the same transaction, DOMExceptions mapped.
 */
import { BackupStore } from "@matrix-backup/core"
import { EncodedStore } from "@matrix-backup/core/adapter"
import { Effect, Layer, type Redacted, type Scope } from "effect"
import { makeIndexedDbEncoded } from "./IndexedDbEncoded.js"
import { openDatabase } from "./IndexedDbSchema.js"

/** The database name, the optional key sealing stored secrets, and the IndexedDB implementation. */
export interface Options {
  readonly name: string
  readonly atRestKey?: Redacted.Redacted<Uint8Array>
  /** Defaults to `globalThis.indexedDB`. */
  readonly indexedDB?: IDBFactory
  /** Defaults to `globalThis.IDBKeyRange` (pass fake-indexeddb's with its factory). */
  readonly IDBKeyRange?: typeof IDBKeyRange
}

const missing = new BackupStore.StorageError({ reason: "Open", message: "IndexedDB is not available here" })

/** The adapter's `Encoded` over the database, closed with the scope. */
export const openEncoded = (options: Options): Effect.Effect<EncodedStore.Encoded, BackupStore.StorageError, Scope.Scope> =>
  Effect.gen(function* () {
    const factory = options.indexedDB ?? globalThis.indexedDB
    const keyRange = options.IDBKeyRange ?? globalThis.IDBKeyRange
    if (factory === undefined || keyRange === undefined) return yield* Effect.fail(missing)
    const db = yield* Effect.acquireRelease(openDatabase(factory, options.name), (db) => Effect.sync(() => db.close()))
    return makeIndexedDbEncoded(db, keyRange)
  })

/** The BackupStore service over an IndexedDB database. */
export const layer = (options: Options): Layer.Layer<BackupStore.BackupStore, BackupStore.StorageError> =>
  Layer.scoped(
    BackupStore.BackupStore,
    Effect.map(openEncoded(options), (encoded) => EncodedStore.makeEncoded(encoded, options)),
  )
