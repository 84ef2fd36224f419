/**
 * The SQLite schema and its migrations. The file is marked as ours with `application_id`, and
 * `user_version` holds the schema version; a file that is not ours is refused, never altered.
 */
import type { Database as DatabaseType } from "better-sqlite3"

/** "MXKB" in ASCII: marks a database file as a matrix-backup key store. */
export const APPLICATION_ID = 0x4d584b42

/** One step from version `to - 1` to `to`, run in the migration transaction. */
export interface Migration {
  readonly to: number
  readonly sql: string
}

/**
 * Version 1 kept rows and flags only; counting meant a full scan. Version 2 adds the counters that
 * make counting O(1) (filled once from the existing rows) and the index that makes pending queries
 * O(log n + limit).
 */
export const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    to: 1,
    sql: `
      CREATE TABLE room_keys (
        id INTEGER PRIMARY KEY,
        room_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        first_known_index INTEGER NOT NULL,
        backed_up_to TEXT,
        revision INTEGER NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (room_id, session_id)
      );
      CREATE TABLE kv (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE restore_checkpoints (
        version TEXT NOT NULL,
        room_id TEXT NOT NULL,
        PRIMARY KEY (version, room_id)
      ) WITHOUT ROWID;`,
  },
  {
    to: 2,
    sql: `
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO counters (name, value) SELECT 'total', count(*) FROM room_keys;
      INSERT INTO counters (name, value)
        SELECT 'backedUp:' || backed_up_to, count(*) FROM room_keys WHERE backed_up_to IS NOT NULL GROUP BY backed_up_to;
      CREATE INDEX room_keys_backed_up_to ON room_keys (backed_up_to);`,
  },
]

/** The version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/** What `inspect` found in a file. */
export type Inspection =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Ours"; readonly version: number }
  | { readonly _tag: "Foreign" }

const int = (value: unknown): number => (typeof value === "number" ? value : -1)

/** Reads the file's marks; throws the SQLite error of an unreadable file (mapped by the caller). */
export const inspect = (db: DatabaseType): Inspection => {
  const applicationId = int(db.pragma("application_id", { simple: true }))
  const version = int(db.pragma("user_version", { simple: true }))
  const tables = int(db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get())
  if (applicationId === APPLICATION_ID) return { _tag: "Ours", version }
  if (applicationId === 0 && version === 0 && tables === 0) return { _tag: "Empty" }
  return { _tag: "Foreign" }
}

/**
 * Brings the file to version `to` in one immediate transaction. The version is read inside the
 * transaction, so two processes opening a new file at once migrate it once.
 */
export const migrate = (db: DatabaseType, to: number = SCHEMA_VERSION): void => {
  db.transaction(() => {
    const from = int(db.pragma("user_version", { simple: true }))
    if (from >= to) return
    if (from === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
    for (const migration of MIGRATIONS) {
      if (migration.to > from && migration.to <= to) db.exec(migration.sql)
    }
    db.pragma(`user_version = ${to}`)
  }).immediate()
}
