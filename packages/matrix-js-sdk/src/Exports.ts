/** What both entry points (Node and browser) export besides the two restores. */
export type { FailedKey, RestorePlacementOpts, RestoreKeyBackupOpts, RestoreKeyBackupResult } from "./Options.js"
export { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"
export type { RestoreKeyBackupFailure, RestoreProgress } from "./RestoreKeyBackupError.js"
export type { Restorers } from "./RestoreKeyBackup.js"
export { toSessionData } from "./JsSdkRoomKeySink.js"
