/** @matrix-backup/core: Matrix server-side key backup in Effect. */
export * as Base64 from "./schema/Base64.js"
export * as BackupEvents from "./services/BackupEvents.js"
export * as BackupStore from "./services/BackupStore.js"
export * as RoomKey from "./schema/RoomKey.js"
