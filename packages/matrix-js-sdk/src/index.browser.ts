/**
 * @matrix-backup/matrix-js-sdk in browsers: the same API as the Node entry: the restore runs on a Web Worker
 * and decrypts with Web Crypto on more, and the page's thread only imports.
 * Bundlers pick this file through the package's `browser` export condition; it reaches no Node module.
 */
import * as BrowserBackend from "./BrowserBackend.js"
import { restoreOffThread } from "./BrowserOffThread.js"
import { makeRestorers } from "./RestoreKeyBackup.js"

export * from "./Exports.js"

const restorers = makeRestorers({ backendFor: BrowserBackend.layer, restoreOffThread })

/** Restores the backup into the client's crypto with the key it holds; see {@link Restorers.restoreKeyBackup}. */
export const restoreKeyBackup = restorers.restoreKeyBackup

/** Restores a legacy passphrase backup; see {@link Restorers.restoreKeyBackupWithPassphrase}. */
export const restoreKeyBackupWithPassphrase = restorers.restoreKeyBackupWithPassphrase
