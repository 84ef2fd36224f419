/**
 * The options and result of the bridge's restores: matrix-js-sdk's own (`progressCallback`, result `total` and
 * `imported`) plus cancellation, decryption threads and per-key failures by reason.
 */
import type { RestoreError } from "@matrix-backup/core"
import type { ImportRoomKeyProgressData } from "matrix-js-sdk/lib/crypto-api/index.js"

/** One backed-up key that was skipped, and why (never its contents). */
export interface FailedKey {
  readonly roomId: string
  readonly sessionId: string
  readonly reason: RestoreError.FailureReason
  readonly version: string
}

/** Options of `restoreKeyBackup` and `restoreKeyBackupWithPassphrase`. */
export interface RestoreKeyBackupOpts extends RestorePlacementOpts {
  /** matrix-js-sdk's progress callback: `fetch`, then `load_keys` after every batch. */
  readonly progressCallback?: (progress: ImportRoomKeyProgressData) => void
  /** Aborting stops the restore promptly; the error reports what was imported until then. */
  readonly signal?: AbortSignal
  /**
   * Threads that decrypt: worker threads with node:crypto in Node, Web Workers with Web Crypto in browsers. Default:
   * one fewer than the cores available, at least 1 and at most 4. 0 decrypts on the thread that runs the restore (its own worker, unless
   * `offThread` is false).
   */
  readonly decryptionThreads?: number
  /** Called with each backed-up key that is skipped (corrupt, undecryptable, unknown algorithm...). */
  readonly onFailure?: (failure: FailedKey) => void
  /** The backup version to restore; default the server's current one. */
  readonly backupVersion?: string
  /**
   * Sessions per batch (decryption call, `importBackedUpRoomKeys` call, progress report); default 1,000, the size at
   * which js-sdk 43's import measured fastest (README's benchmark).
   */
  readonly batchSize?: number
  /**
   * The decryption worker script, for bundlers that move it. Default in Node: the one next to
   * `@matrix-backup/crypto-node`; in browsers: `DecryptWorkerBrowser.js` next to this package's browser entry
   * (`@matrix-backup/matrix-js-sdk/DecryptWorkerBrowser`).
   */
  readonly workerEntry?: URL
}

/** Where the restore runs. */
export interface RestorePlacementOpts {
  /**
   * Run the download, parsing and decryption on a worker (a worker thread in Node, a Web Worker in browsers), so that
   * the calling thread, where the client's crypto lives, only imports (default true). `false` runs them on the calling
   * thread, decrypting on `decryptionThreads` workers still.
   */
  readonly offThread?: boolean
  /**
   * The restore worker's script, for bundlers that move it. Default: `RestoreWorkerMain.js` (Node) or
   * `RestoreWorkerBrowser.js` (browsers, exported as `@matrix-backup/matrix-js-sdk/RestoreWorkerBrowser`) next to
   * this package's entry.
   */
  readonly restoreWorkerEntry?: URL
}

/** What a restore did. `total = imported + sum(failures)`; `failed` lists the first 100 skipped keys. */
export interface RestoreKeyBackupResult {
  readonly total: number
  readonly imported: number
  readonly failures: RestoreError.FailureCounts
  readonly failed: ReadonlyArray<RestoreError.KeyBackupRestoreResult["failed"][number]>
}
