export * as SqliteBackupStore from "./SqliteBackupStore.js"
