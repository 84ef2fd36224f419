/**
 * @matrix-backup/matrix-js-sdk: restores a Matrix key backup into a matrix-js-sdk client's crypto, fast and streaming.
 * This is the Node entry (the restore on a worker thread, node:crypto on more); browsers get `index.browser.ts` (Web Crypto on Web Workers).
 */
import * as NodeBackend from "./NodeBackend.js"
import { restoreOffThread } from "./OffThreadRestore.js"
import { makeRestorers } from "./RestoreKeyBackup.js"

export * from "./Exports.js"

const restorers = makeRestorers({ backendFor: NodeBackend.layer, restoreOffThread })

/** Restores the backup into the client's crypto with the key it holds; see {@link Restorers.restoreKeyBackup}. */
export const restoreKeyBackup = restorers.restoreKeyBackup

/** Restores a legacy passphrase backup; see {@link Restorers.restoreKeyBackupWithPassphrase}. */
export const restoreKeyBackupWithPassphrase = restorers.restoreKeyBackupWithPassphrase
