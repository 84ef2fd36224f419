/**
 * The backup engine: finds and trusts the server's backup, enables uploads to it, uploads new room keys in
 * batches without ever losing one, resets and deletes versions, and publishes matrix-js-sdk's KeyBackup* events
 * (PROTOCOL.md §7.5, §8.1, §8.2, §8.5; DESIGN.md §3).
 */
import { Context } from "effect"
import type { Effect, Option, Stream } from "effect"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { UpsertCounts } from "../store/Encoded.js"
import type { StorageError } from "../store/StorageError.js"
import type { BackupTrustInfo, BackupTrustResult } from "../trust/TrustVerdict.js"
import type { BackupState, DisabledReason } from "./BackupState.js"
import type { EngineError, SteadyStateError } from "./EngineError.js"

export type { BackupTrustInfo, BackupTrustResult, TrustVerdict } from "../trust/TrustVerdict.js"
export { BackupState, type DisabledReason, type ErrorReason } from "./BackupState.js"
export { EngineError, SteadyStateError } from "./EngineError.js"
export type { UploadOptions } from "./UploadOptions.js"

/** matrix-js-sdk's `KeyBackupCheck`: the server's backup and whether we trust it. */
export interface KeyBackupCheck {
  readonly backupInfo: KeyBackupInfo
  readonly trustInfo: BackupTrustInfo
}

/** Options of `waitForBackupSteadyState`. */
export interface SteadyStateOptions {
  /** Give up after this long (default: the engine's `steadyStateTimeout`, 10 min). */
  readonly timeoutMs?: number
}

/** The engine. No method has requirements; the Layer carries them. */
export class KeyBackupEngine extends Context.Tag("@matrix-backup/core/KeyBackupEngine")<
  KeyBackupEngine,
  {
    /**
     * §8.1: fetches the latest version, checks trust, enables/switches/disables uploads. None when the server has
     * no backup or could not be asked. Concurrent callers share one check. Without `force`, a finished earlier
     * check's result is returned as is.
     */
    readonly checkKeyBackupAndEnable: (force?: boolean) => Effect.Effect<Option.Option<KeyBackupCheck>>
    /** The server's backup as of the last check (running one if none ran yet); None for "no backup" or unknown. */
    readonly getKeyBackupInfo: () => Effect.Effect<Option.Option<KeyBackupInfo>>
    /** Trust of a given backup (no side effect), with per-signer details. */
    readonly isKeyBackupTrusted: (info: KeyBackupInfo) => Effect.Effect<BackupTrustResult>
    /** The version uploads go to, if enabled. */
    readonly getActiveSessionBackupVersion: () => Effect.Effect<Option.Option<string>>
    /**
     * §8.5: deletes every version, creates a new signed one with a fresh key, caches the key (publishes
     * `KeyBackupDecryptionKeyCached`), stores it in 4S when 4S has a default key, enables it (re-uploads everything).
     */
    readonly resetKeyBackup: () => Effect.Effect<KeyBackupCheck, EngineError>
    /** `DELETE /room_keys/version/{version}`; disables uploads when it was the active version. */
    readonly deleteKeyBackupVersion: (version: string) => Effect.Effect<void, EngineError>
    /** Turns uploads off (publishes `KeyBackupStatus(false)` if they were on). */
    readonly disable: (reason: DisabledReason) => Effect.Effect<void>
    /** Stores keys (pending for the active version) and wakes the upload loop. */
    readonly addRoomKeys: (keys: ReadonlyArray<RoomKey>) => Effect.Effect<UpsertCounts, StorageError>
    /** Succeeds once nothing is pending for the active version; fails with a typed reason, never hangs. */
    readonly waitForBackupSteadyState: (options?: SteadyStateOptions) => Effect.Effect<void, SteadyStateError>
    /** The current state. */
    readonly state: Effect.Effect<BackupState>
    /** The current state, then every change. */
    readonly stateChanges: Stream.Stream<BackupState>
    /** Called when a backup decryption key arrives (e.g. from 4S): re-checks, as matrix-js-sdk does. */
    readonly onDecryptionKeyCached: (version: string) => Effect.Effect<void>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<KeyBackupEngine>
