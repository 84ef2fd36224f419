/**
 * `indexedDbStore`: the plain factory a Promise user hands to `createKeyBackupClient` in a browser (no Effect import
 * needed). The database is opened when the client starts and closed by `client.stop()`.
 */
import { KeyBackupClient } from "@matrix-backup/core"
import { Redacted } from "effect"
import { layer } from "./IndexedDbBackupStore.js"

/** The database name, an optional 32-byte key sealing stored secrets, and the IndexedDB to use (default the global). */
export interface IndexedDbStoreOptions {
  readonly name: string
  readonly atRestKey?: Uint8Array
  readonly indexedDB?: IDBFactory
  readonly IDBKeyRange?: typeof IDBKeyRange
}

/** The key store in an IndexedDB database, for `createKeyBackupClient({ store })`. */
export const indexedDbStore = (options: IndexedDbStoreOptions): KeyBackupClient.ClientStore =>
  KeyBackupClient.clientStore(
    layer({
      name: options.name,
      ...(options.atRestKey === undefined ? {} : { atRestKey: Redacted.make(Uint8Array.from(options.atRestKey)) }),
      ...(options.indexedDB === undefined ? {} : { indexedDB: options.indexedDB }),
      ...(options.IDBKeyRange === undefined ? {} : { IDBKeyRange: options.IDBKeyRange }),
    }),
  )
