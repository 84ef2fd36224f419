export * as IndexedDbBackupStore from "./IndexedDbBackupStore.js"
export { indexedDbStore, type IndexedDbStoreOptions } from "./IndexedDbStore.js"
