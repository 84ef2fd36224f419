/**
 * A restore for hosts whose own crypto holds the backup key (another SDK): the key is checked against the server's
 * backup before any download, then keys stream, are decrypted and go to the host's `RoomKeySink` (PROTOCOL.md §8.3).
 */
import { Effect } from "effect"
import type { Context, Redacted } from "effect"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { RoomKeySink } from "../services/RoomKeySink.js"
import { abortable, safely } from "./KeyBackupRestore.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult, RestoreError } from "./RestoreError.js"
import type { PipelineOptions } from "./RestorePipeline.js"
import { runPipeline } from "./RestorePipeline.js"
import { checkVersion } from "./RestoreTarget.js"

/** Derives and checks a legacy passphrase key for the server's current version (for hosts that cache it themselves). */
export { derivePassphraseKey } from "./RestoreTarget.js"
export type { RestoreTarget } from "./RestoreTarget.js"

/** The ports the restore uses; none of them needs a BackupStore. */
export interface RestoreWithKeyDeps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly backend: Context.Tag.Service<CryptoBackend>
  readonly sink: Context.Tag.Service<RoomKeySink>
}

/** Options: the pipeline's, the version to restore (default the server's current one), progress and abort. */
export interface RestoreWithKeyOptions extends PipelineOptions {
  readonly version?: string
  /** Called synchronously with each progress update; an exception it throws is ignored. */
  readonly onProgress?: (progress: ImportRoomKeyProgressData) => void
  /** Aborting stops the restore promptly with `RestoreError { reason: "Aborted" }`. */
  readonly signal?: AbortSignal
}

/**
 * Restores with `privateKey` into `deps.sink`. A key that does not match the backup fails with
 * `DecryptionKeyDoesNotMatch` before anything is downloaded or imported.
 */
export const restoreWithKey = (
  deps: RestoreWithKeyDeps,
  privateKey: Redacted.Redacted<Uint8Array>,
  options: RestoreWithKeyOptions = {},
): Effect.Effect<KeyBackupRestoreResult, RestoreError> =>
  abortable(
    options.signal,
    Effect.flatMap(checkVersion(deps.api, options.version, privateKey), (target) =>
      runPipeline(deps, target, options, safely(options.onProgress)),
    ),
  ).pipe(Effect.withSpan("KeyBackupRestore.restoreWithKey"))
