export * as SqliteBackupStore from "./SqliteBackupStore.js"
export { sqliteStore, type SqliteStoreOptions } from "./SqliteStore.js"
