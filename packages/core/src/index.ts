/** @matrix-backup/core: Matrix server-side key backup in Effect. */
export * as Base64 from "./schema/Base64.js"
export * as BackupEvents from "./services/BackupEvents.js"
