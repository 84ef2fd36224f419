export * as IndexedDbBackupStore from "./IndexedDbBackupStore.js"
