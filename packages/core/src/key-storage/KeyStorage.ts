/**
 * KeyStorage: one diagnosis of everything in key storage that can drift out of sync, and a repair that fixes what
 * can be fixed without losing a key (matrix-rust-sdk's `recover_and_fix_backup`, for this library). DESIGN.md §3.
 */
import { Context, Effect, Layer } from "effect"
import { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import { KeyBackupRestore } from "../restore/KeyBackupRestore.js"
import { Recovery } from "../secret-storage/Recovery.js"
import { SecretStorage } from "../secret-storage/SecretStorage.js"
import { BackupStore } from "../services/BackupStore.js"
import { DeviceKeys } from "../services/DeviceKeys.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { diagnoseKeyStorage, type DiagnoseError, type DiagnoseOptions } from "./Diagnose.js"
import { repairKeyStorage, type RepairOptions, type RepairResult } from "./Repair.js"
import { signBackup, type SignStep } from "./SignBackup.js"
import type { KeyStorageDiagnosis } from "./KeyStorageDiagnosis.js"

export type { DiagnoseError, DiagnoseOptions } from "./Diagnose.js"
export { type DiagnosisLine, type DiagnosisTopic, describeDiagnosis, describeStep } from "./DescribeDiagnosis.js"
export type { CachedKeyJson, KeyStorageDiagnosisJson, PreferenceJson, RecoveryJson, ServerJson } from "./DiagnosisJson.js"
export { diagnosisJson } from "./DiagnosisJson.js"
export { driftsOf } from "./Drifts.js"
export type * from "./KeyStorageDiagnosis.js"
export { type KeyStoragePreference, readKeyStoragePreference, writeKeyStoragePreference } from "./KeyStoragePreference.js"
export type { NewSecretStorage, RepairOptions, RepairResult, RepairStep } from "./Repair.js"
export type { SignRefusal, SignStep } from "./SignBackup.js"

/** The service. */
export class KeyStorage extends Context.Tag("@matrix-backup/core/KeyStorage")<
  KeyStorage,
  {
    /** Everything that can be out of sync, each drift with the action that fixes it. Reads only. */
    readonly diagnoseKeyStorage: (options?: DiagnoseOptions) => Effect.Effect<KeyStorageDiagnosis, DiagnoseError>
    /** Fixes the drifts in order (idempotent), reporting each step; a new version only with `allowReset`. */
    readonly repairKeyStorage: (options?: RepairOptions) => Effect.Effect<RepairResult, DiagnoseError>
    /**
     * The repair's sign step alone: signs the current version with the master key (the app's, or from an open 4S)
     * when this device's key opens it and the master key is the account's; otherwise a typed refusal, nothing signed.
     */
    readonly signBackup: () => Effect.Effect<SignStep>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<KeyStorage>

/** Builds the service; one repair runs at a time. */
export const make = Effect.gen(function* () {
  const deps = {
    api: yield* HomeserverApi,
    engine: yield* KeyBackupEngine,
    store: yield* BackupStore,
    secretStorage: yield* SecretStorage,
    recovery: yield* Recovery,
    restore: yield* KeyBackupRestore,
    device: yield* DeviceKeys,
  }
  const lock = yield* Effect.makeSemaphore(1)
  return {
    diagnoseKeyStorage: (options) => diagnoseKeyStorage(deps, options),
    repairKeyStorage: (options) => lock.withPermits(1)(repairKeyStorage(deps, options)),
    signBackup: () => lock.withPermits(1)(signBackup(deps)),
  } satisfies Service
})

/** Everything KeyStorage is built from. */
export type Requirements = HomeserverApi | KeyBackupEngine | BackupStore | SecretStorage | Recovery | KeyBackupRestore | DeviceKeys

/** The service over the engine, Recovery, restore and their ports. */
export const layer: Layer.Layer<KeyStorage, never, Requirements> = Layer.effect(KeyStorage, make)
