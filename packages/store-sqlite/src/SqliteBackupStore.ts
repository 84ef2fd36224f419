/**
 * The BackupStore port over SQLite (better-sqlite3): WAL, synchronous=NORMAL, prepared statements,
 * one transaction per batch, versioned migrations. A damaged or foreign file is a typed error.
 */
import { BackupStore } from "@matrix-backup/core"
import Database, { type DatabaseType } from "better-sqlite3"
import { Effect, Layer, type Redacted, type Scope } from "effect"
import { makeSqliteEncoded } from "./SqliteEncoded.js"
import { inspect, migrate, SCHEMA_VERSION } from "./SqliteSchema.js"

/** Where the database lives and the optional key that seals stored secrets. */
export interface Options {
  readonly filename: string
  readonly atRestKey?: Redacted.Redacted<Uint8Array>
}

type StorageError = BackupStore.StorageError
type Reason = BackupStore.StorageErrorReason

const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

const reasonOf = (code: string | undefined, error: unknown): Reason => {
  if (code === undefined) return error instanceof TypeError ? "Corrupt" : "Io"
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) return "Corrupt"
  if (code.startsWith("SQLITE_CONSTRAINT")) return "Constraint"
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_PERM")) return "Open"
  return "Io"
}

/** Maps a native failure to the port's error; only the SQLite code is kept, never a value. */
export const toStorageError = (operation: string, error: unknown, reason?: Reason): StorageError => {
  const code = errorCode(error)
  return new BackupStore.StorageError({
    reason: reason ?? reasonOf(code, error),
    message: `SQLite ${operation} failed${code === undefined ? "" : ` (${code})`}`,
    ...(code === undefined ? {} : { code }),
  })
}

const closed = new BackupStore.StorageError({ reason: "Closed", message: "The SQLite store is closed" })

const runOn =
  (db: DatabaseType) =>
  <A>(operation: string, body: () => A): Effect.Effect<A, StorageError> =>
    Effect.suspend(() =>
      db.open ? Effect.try({ try: body, catch: (error) => toStorageError(operation, error) }) : Effect.fail(closed),
    )

/** Opens (creating or migrating) a database file; the caller closes it. */
export const openDatabase = (filename: string): Effect.Effect<DatabaseType, StorageError> =>
  Effect.gen(function* () {
    const db = yield* Effect.try({
      try: () => new Database(filename, { timeout: 5_000 }),
      catch: (error) => toStorageError("open", error, "Open"),
    })
    const found = yield* Effect.try({ try: () => inspect(db), catch: (error) => toStorageError("open", error) })
    const refuse = (reason: Reason, message: string) =>
      Effect.zipRight(
        Effect.sync(() => db.close()),
        Effect.fail(new BackupStore.StorageError({ reason, message })),
      )
    if (found._tag === "Foreign") return yield* refuse("Foreign", "The file is an SQLite database of another application")
    if (found._tag === "Ours" && found.version > SCHEMA_VERSION) {
      return yield* refuse("Migration", `The store has schema version ${found.version}; this code knows up to ${SCHEMA_VERSION}`)
    }
    yield* Effect.try({
      try: () => {
        db.pragma("journal_mode = WAL")
        db.pragma("synchronous = NORMAL")
        db.pragma("cache_size = -32000")
        // Measured at 1M keys: memory-mapped reads and fewer, larger checkpoints raise imports by about 50%.
        db.pragma("mmap_size = 268435456")
        db.pragma("wal_autocheckpoint = 10000")
      },
      catch: (error) => toStorageError("open", error),
    }).pipe(Effect.tapError(() => Effect.sync(() => db.close())))
    yield* Effect.try({ try: () => migrate(db), catch: (error) => toStorageError("migration", error, "Migration") }).pipe(
      Effect.tapError(() => Effect.sync(() => db.close())),
    )
    return db
  })

/** The adapter's `Encoded` over a file, closed with the scope. */
export const openEncoded = (options: Options): Effect.Effect<BackupStore.Encoded, StorageError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(openDatabase(options.filename), (db) => Effect.sync(() => db.close())),
    (db) => makeSqliteEncoded(db, runOn(db)),
  )

/** The BackupStore service over an SQLite file. */
export const layer = (options: Options): Layer.Layer<BackupStore.BackupStore, StorageError> =>
  Layer.scoped(
    BackupStore.BackupStore,
    Effect.map(openEncoded(options), (encoded) => BackupStore.makeEncoded(encoded, options)),
  )
