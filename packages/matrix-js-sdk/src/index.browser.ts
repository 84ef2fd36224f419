/**
 * @matrix-backup/matrix-js-sdk in browsers: the same API as the Node entry, decrypting with Web Crypto on Web Workers.
 * Bundlers pick this file through the package's `browser` export condition; it reaches no Node module.
 */
import * as BrowserBackend from "./BrowserBackend.js"
import { makeRestorers } from "./RestoreKeyBackup.js"

export * from "./Exports.js"

const restorers = makeRestorers({ backendFor: BrowserBackend.layer })

/** Restores the backup into the client's crypto with the key it holds; see {@link Restorers.restoreKeyBackup}. */
export const restoreKeyBackup = restorers.restoreKeyBackup

/** Restores a legacy passphrase backup; see {@link Restorers.restoreKeyBackupWithPassphrase}. */
export const restoreKeyBackupWithPassphrase = restorers.restoreKeyBackupWithPassphrase
