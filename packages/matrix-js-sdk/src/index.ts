/** @matrix-backup/matrix-js-sdk: restores a Matrix key backup into a matrix-js-sdk client's crypto, fast and streaming. */
export { restoreKeyBackup, restoreKeyBackupWithPassphrase } from "./RestoreKeyBackup.js"
export type { FailedKey, RestoreKeyBackupOpts, RestoreKeyBackupResult } from "./Options.js"
export { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"
export type { RestoreKeyBackupFailure, RestoreProgress } from "./RestoreKeyBackupError.js"
export { toSessionData } from "./JsSdkRoomKeySink.js"
