/**
 * The backup engine: finds and trusts the server's backup, enables uploads to it, uploads new room keys in
 * batches without ever losing one, resets and deletes versions, and publishes matrix-js-sdk's KeyBackup* events
 * (PROTOCOL.md §7.5, §8.1, §8.2, §8.5; DESIGN.md §3).
 */
import type { Stream} from "effect";
import { Context, Effect, Layer, Option, SubscriptionRef } from "effect"
import type { SecretStorage } from "../secret-storage/SecretStorage.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { DeviceKeys } from "../services/DeviceKeys.js"
import type { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { writeKeyStoragePreference } from "../key-storage/KeyStoragePreference.js"
import * as BackupTrust from "../trust/BackupTrust.js"
import { makeActivation } from "./Activation.js"
import { makeChecker } from "./Check.js"
import { makeReset } from "./Reset.js"
import { makeSteadyState } from "./SteadyState.js"
import { makeUploadLoop } from "./UploadLoop.js"
import { resolveUploadOptions, type UploadOptions } from "./UploadOptions.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { RoomKey } from "../schema/RoomKey.js"
import type { UpsertCounts } from "../store/Encoded.js"
import type { StorageError } from "../store/StorageError.js"
import type { BackupTrustInfo, BackupTrustResult } from "../trust/TrustVerdict.js"
import { type BackupState, type DisabledReason } from "./BackupState.js"
import { type EngineError, fromHomeserver, type SteadyStateError } from "./EngineError.js"

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
     * no backup or could not be asked. Concurrent callers share one check. `force` (default true, like
     * matrix-js-sdk's public method): false returns the result of an earlier finished check, if there is one.
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

/** Builds the engine: its loop fiber lives in the layer's scope. */
export const make = (options: UploadOptions = {}) =>
  Effect.gen(function* () {
    const settings = resolveUploadOptions(options)
    const store = yield* BackupStore
    const events = yield* BackupEvents
    const trust = yield* BackupTrust.BackupTrust
    const activation = yield* makeActivation
    const checker = yield* makeChecker(activation)
    const loop = yield* makeUploadLoop(settings, activation, (backup, outcome) =>
      Effect.gen(function* () {
        // Only act if the failing version is still the active one; a switch may have happened meanwhile.
        if (!(yield* activation.isCurrent(backup.epoch))) return
        const tag = outcome.error._tag
        const current = outcome.error._tag === "WrongBackupVersion" ? outcome.error.currentVersion : undefined
        yield* activation.disable(tag, backup.version, current)
        yield* publishFailed(tag === "WrongBackupVersion" ? "M_WRONG_ROOM_KEYS_VERSION" : "M_NOT_FOUND")
        yield* Effect.asVoid(checker.check(true))
      }),
    )
    const publishFailed = (errcode: string) => events.publish({ name: CryptoEvent.KeyBackupFailed, errcode })
    const reset = yield* makeReset(activation, checker)
    const api = yield* HomeserverApi
    const recordKeyStorageOn = Effect.mapError(writeKeyStoragePreference(api, true), (error) => fromHomeserver("recordPreference", error))
    const steady = yield* makeSteadyState(activation, settings.steadyStateTimeout, loop.wake, checker.isChecking)

    return {
      checkKeyBackupAndEnable: (force = true) => checker.check(force),
      getKeyBackupInfo: () => Effect.map(checker.check(false), Option.map((c) => c.backupInfo)),
      isKeyBackupTrusted: trust.isKeyBackupTrusted,
      getActiveSessionBackupVersion: () => Effect.map(activation.current, Option.map((a): string => a.version)),
      // A new backup is the user turning key storage on: record it (MSC4287) so other clients and our checks agree.
      resetKeyBackup: () => Effect.tap(reset.resetKeyBackup, () => recordKeyStorageOn),
      deleteKeyBackupVersion: reset.deleteKeyBackupVersion,
      disable: (reason) => activation.disable(reason),
      addRoomKeys: (keys) => Effect.tap(store.upsertRoomKeys(keys), () => loop.wake),
      waitForBackupSteadyState: steady,
      state: SubscriptionRef.get(activation.state),
      stateChanges: activation.state.changes,
      onDecryptionKeyCached: () => Effect.asVoid(checker.check(true)),
    } satisfies Service
  })

/** Everything the engine needs; SecretStorage is optional (without it, reset does not touch 4S). */
export type Requirements = HomeserverApi | BackupStore | CryptoBackend | Entropy | DeviceKeys | BackupEvents

/** The engine, with its trust service built in. Provide SecretStorage as well for reset to save the key in 4S. */
export const layer = (options: UploadOptions = {}): Layer.Layer<KeyBackupEngine, never, Requirements | SecretStorage> =>
  Layer.scoped(KeyBackupEngine, make(options)).pipe(Layer.provide(BackupTrust.layer))

/** The engine without 4S (reset then never stores the key in secret storage). */
export const layerWithoutSecretStorage = (options: UploadOptions = {}): Layer.Layer<KeyBackupEngine, never, Requirements> =>
  Layer.scoped(KeyBackupEngine, make(options)).pipe(Layer.provide(BackupTrust.layer))
