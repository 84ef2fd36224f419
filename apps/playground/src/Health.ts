/**
 * Key storage health on one device: core's diagnosis and repair as Effects, and each drift and repair step as a
 * line for the page (the same drifts `matrix-backup doctor` prints, from the same core function).
 */
import { KeyStorage } from "@matrix-backup/core"
import { Effect, Redacted } from "effect"

/** The device's diagnosis. */
export const diagnose = Effect.flatMap(KeyStorage.KeyStorage, (keyStorage) => keyStorage.diagnoseKeyStorage())

/** Repairs what can be repaired, opening Secret Storage with `recoveryKey` when one is given. */
export const repair = (recoveryKey: string) =>
  Effect.flatMap(KeyStorage.KeyStorage, (keyStorage) =>
    keyStorage.repairKeyStorage(recoveryKey.trim() === "" ? {} : { secretStorageKey: { recoveryKey: Redacted.make(recoveryKey) } }),
  )

const DRIFT: Record<KeyStorage.DriftKind, string> = {
  KeyStorageOffButBackupExists: "The account chose no key storage, yet a backup exists",
  NoBackup: "There is no key backup",
  BackupNotTrusted: "This device neither trusts the backup nor holds its key, so it uploads nothing",
  UnsupportedAlgorithm: "The backup uses an algorithm this library cannot use",
  NoSecretStorage: "The account has no Secret Storage",
  DefaultKeyMissing: "The Secret Storage key was removed",
  UnsupportedDefaultKey: "The Secret Storage key uses an unknown algorithm",
  BackupKeyNotCached: "This device does not hold the backup key",
  CachedKeyForOtherVersion: "This device holds the key of another backup version",
  BackupKeyNotInSecretStorage: "The backup key is not in Secret Storage",
  BackupKeyMismatch: "Secret Storage holds the key of another backup",
  UploadsStopped: "Uploads are stopped",
  KeysPending: "Keys are waiting to be uploaded",
}

const ACTION: Record<KeyStorage.RepairAction, string> = {
  CacheKeyFromSecretStorage: "Repair takes it from Secret Storage (paste the recovery key)",
  StoreKeyInSecretStorage: "Repair stores this device's key there (paste the recovery key)",
  ResumeUploads: "Repair resumes them",
  UploadPendingKeys: "Repair uploads them",
  ResetBackup: "only a new backup fixes this (not done here)",
  TurnOnKeyStorage: "turn key storage on first (not done here)",
  EnterRecoveryKey: "paste the recovery key, then Repair",
  SetUpSecretStorage: "set up Secret Storage (step 2)",
}

/** One line of the health panel. */
export interface HealthLine {
  readonly kind: string
  readonly action: string
  readonly text: string
}

/** The diagnosis as lines: one per drift, or one saying all is in sync. */
export const diagnosisLines = (diagnosis: KeyStorage.KeyStorageDiagnosis): ReadonlyArray<HealthLine> =>
  diagnosis.healthy
    ? [{ kind: "InSync", action: "None", text: "Key storage is in sync: backup, device key and Secret Storage agree." }]
    : diagnosis.drifts.map((drift) => ({ kind: drift.kind, action: drift.action, text: `${DRIFT[drift.kind]}: ${ACTION[drift.action]}.` }))

/** The repair's steps as lines. */
export const stepLines = (steps: ReadonlyArray<KeyStorage.RepairStep>): ReadonlyArray<HealthLine> =>
  steps.map((step) => ({ kind: step.action, action: step.outcome, text: `${step.action}: ${step.outcome.toLowerCase()}${step.detail === undefined ? "" : ` (${step.detail})`}` }))
