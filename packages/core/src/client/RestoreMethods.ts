/**
 * The facade's restore methods (matrix-js-sdk `restoreKeyBackup`, `restoreKeyBackupWithPassphrase`), with progress,
 * an abort signal, and every skipped key reported while the restore runs (`onFailure`) and listed in the result.
 */
import { Effect, Redacted } from "effect"
import { KeyBackupRestore, type RestoreOptions } from "../restore/KeyBackupRestore.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult } from "../restore/RestoreError.js"
import type { Call } from "./ClientLayer.js"

/** matrix-js-sdk's `KeyBackupRestoreOpts`, plus an abort signal and an observer of skipped keys. */
export interface KeyBackupRestoreOpts {
  /** Called with `{ stage: "fetch" }`, then after each batch with `load_keys` counts (js-sdk's shape). */
  readonly progressCallback?: (progress: ImportRoomKeyProgressData) => void
  /** Aborting rejects with `code: "Aborted"`; running the restore again resumes it. */
  readonly signal?: AbortSignal
  /** Called with each backed-up key that is skipped (room, session, reason, version); exceptions are ignored. */
  readonly onFailure?: RestoreOptions["onFailure"]
}

/** The methods this module adds to the client. */
export interface RestoreMethods {
  /**
   * Restores the backup the cached key belongs to. `failed` in the result lists the first 100 skipped keys
   * (`failures` counts them all by reason); `onFailure` sees every one.
   */
  readonly restoreKeyBackup: (opts?: KeyBackupRestoreOpts) => Promise<KeyBackupRestoreResult>
  /** Derives the key of a passphrase backup (older clients), checks and caches it, then restores. */
  readonly restoreKeyBackupWithPassphrase: (passphrase: string, opts?: KeyBackupRestoreOpts) => Promise<KeyBackupRestoreResult>
}

const restoreOptions = (opts: KeyBackupRestoreOpts): RestoreOptions => ({
  ...(opts.progressCallback === undefined ? {} : { onProgress: opts.progressCallback }),
  ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  ...(opts.onFailure === undefined ? {} : { onFailure: opts.onFailure }),
})

/** Builds the methods over the client's `call`. */
export const makeRestoreMethods = (call: Call): RestoreMethods => ({
  restoreKeyBackup: (opts = {}) => call(Effect.flatMap(KeyBackupRestore, (r) => r.restoreKeyBackup(restoreOptions(opts)))),
  restoreKeyBackupWithPassphrase: (passphrase, opts = {}) =>
    call(Effect.flatMap(KeyBackupRestore, (r) => r.restoreKeyBackupWithPassphrase(Redacted.make(passphrase), restoreOptions(opts)))),
})
