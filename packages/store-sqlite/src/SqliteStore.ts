/**
 * `sqliteStore`: the plain factory a Promise user hands to `createKeyBackupClient` in Node (no Effect import needed).
 * The file is opened when the client starts and closed by `client.stop()`.
 */
import { KeyBackupClient } from "@matrix-backup/core"
import { Redacted } from "effect"
import { layer } from "./SqliteBackupStore.js"

/** Where the database lives, and an optional 32-byte key that seals the stored secrets (backup key, 4S keys). */
export interface SqliteStoreOptions {
  /** A file path (created when absent), or `":memory:"`. */
  readonly filename: string
  readonly atRestKey?: Uint8Array
}

/** The key store in an SQLite file, for `createKeyBackupClient({ store })`. */
export const sqliteStore = (options: SqliteStoreOptions): KeyBackupClient.ClientStore =>
  KeyBackupClient.clientStore(
    layer({
      filename: options.filename,
      ...(options.atRestKey === undefined ? {} : { atRestKey: Redacted.make(Uint8Array.from(options.atRestKey)) }),
    }),
  )
