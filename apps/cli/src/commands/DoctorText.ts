/**
 * `doctor` in words: what each part of key storage says, each drift with what fixes it (and the flag that lets
 * `--fix` do it), and each repair step.
 */
import type { KeyStorage } from "@matrix-backup/core"
import { count } from "../Format.js"

const PREFERENCE: Record<KeyStorage.KeyStoragePreference["_tag"], string> = {
  On: "on",
  Off: "off (the account chose no key storage: nothing is backed up)",
  Unset: "not recorded",
}

const STORED: Record<KeyStorage.StoredBackupKey, string> = {
  NotStored: "holds no backup key",
  Locked: "holds a backup key (give --recovery-key to check it)",
  Malformed: "holds a backup key that cannot be read",
  Stored: "holds a backup key",
  MatchesCurrent: "holds the key of the current backup",
  Differs: "holds the key of ANOTHER backup",
}

const DRIFT: Record<KeyStorage.DriftKind, string> = {
  KeyStorageOffButBackupExists: "the account chose no key storage, yet a backup exists; this device uploads nothing to it",
  NoBackup: "there is no key backup on the homeserver",
  BackupNotTrusted: "the current backup is neither signed by a key this device trusts nor opened by a key it holds; it uploads nothing to it",
  UnsupportedAlgorithm: "the current backup uses an algorithm this tool cannot use",
  NoSecretStorage: "this account has no Secret Storage",
  DefaultKeyMissing: "the Secret Storage key was removed by another client",
  UnsupportedDefaultKey: "the Secret Storage key uses an algorithm this tool cannot open",
  BackupKeyNotCached: "this device does not hold the current backup's key",
  CachedKeyForOtherVersion: "this device holds the key of another backup version",
  BackupKeyNotInSecretStorage: "the backup key is not in Secret Storage, so a new device cannot restore with the recovery key",
  BackupKeyMismatch: "Secret Storage holds the key of another backup, so a new device cannot restore this one",
  UploadsStopped: "uploads to the current backup are stopped",
  KeysPending: "keys are waiting to be backed up",
}

const ACTION: Record<KeyStorage.RepairAction, string> = {
  CacheKeyFromSecretStorage: "--fix takes the key from Secret Storage (give --recovery-key)",
  StoreKeyInSecretStorage: "--fix stores this device's key in Secret Storage (give --recovery-key)",
  ResumeUploads: "--fix checks the backup again and resumes uploads",
  UploadPendingKeys: "--fix uploads them",
  ResetBackup: "--fix --allow-reset makes a new backup with every key this device holds (older versions are deleted)",
  TurnOnKeyStorage: "--fix --turn-on turns key storage back on",
  EnterRecoveryKey: "give --recovery-key (or --passphrase)",
  SetUpSecretStorage: "run `matrix-backup create` to set up Secret Storage",
}

const DONE: Record<KeyStorage.RepairStep["action"], string> = {
  OpenSecretStorage: "opened Secret Storage",
  CacheKeyFromSecretStorage: "took the backup key from Secret Storage",
  StoreKeyInSecretStorage: "stored this device's backup key in Secret Storage",
  ResumeUploads: "checked the backup again",
  UploadPendingKeys: "backed up every waiting key",
  RestoreOlderVersion: "restored the older backup version first",
  ResetBackup: "made a new backup",
  TurnOnKeyStorage: "turned key storage on",
  EnterRecoveryKey: "opened Secret Storage",
  SetUpSecretStorage: "set up Secret Storage",
}

const NOT_DONE: Record<KeyStorage.RepairStep["action"], string> = {
  ...DONE,
  ResetBackup: "no new backup made: add --allow-reset to make one",
  TurnOnKeyStorage: "key storage left off, as the account chose: add --turn-on to turn it on",
  EnterRecoveryKey: "Secret Storage is locked: give --recovery-key (or --passphrase)",
  SetUpSecretStorage: "Secret Storage is not set up: run `matrix-backup create`",
}

const TRIED: Record<KeyStorage.RepairStep["action"], string> = {
  OpenSecretStorage: "opening Secret Storage: check the recovery key",
  CacheKeyFromSecretStorage: "taking the backup key from Secret Storage",
  StoreKeyInSecretStorage: "storing the backup key in Secret Storage",
  ResumeUploads: "checking the backup again",
  UploadPendingKeys: "backing up the waiting keys",
  RestoreOlderVersion: "restoring the older backup version, so no new backup was made",
  ResetBackup: "making a new backup",
  TurnOnKeyStorage: "recording that key storage is on",
  EnterRecoveryKey: "opening Secret Storage",
  SetUpSecretStorage: "setting up Secret Storage",
}

/** One repair step in words; a failed step names what failed, never a value. */
const stepText = (step: KeyStorage.RepairStep): string => {
  switch (step.outcome) {
    case "Done":
      return `Repair: ${DONE[step.action]}${step.detail === undefined ? "" : ` (${step.detail})`}.`
    case "Skipped":
      return `Repair: ${NOT_DONE[step.action]}.`
    case "Failed":
      return `Repair: failed (${TRIED[step.action]}); nothing was lost, run doctor again to see where things stand.`
  }
}

const serverLine = (server: KeyStorage.ServerBackupFacts): string =>
  server._tag === "None"
    ? "Backup: none on the homeserver."
    : `Backup: version ${server.version}, ${server.trusted ? "trusted" : "not trusted"}${server.matchesDecryptionKey ? ", opened by this device's key" : ""}.`

const deviceLine = (cached: KeyStorage.CachedKeyFacts): string =>
  cached._tag === "None"
    ? "This device: holds no backup key."
    : `This device: holds the key of version ${cached.version}${cached.matchesCurrent ? " (the current one)" : cached.opensLiveVersion === undefined ? "" : " (an older version still on the homeserver)"}.`

const secretStorageLine = (ssss: KeyStorage.SecretStorageFacts): string =>
  ssss.defaultKey === "Aes" ? `Secret Storage: ${STORED[ssss.backupKey]}.` : `Secret Storage: ${ssss.defaultKey === "NotSet" ? "not set up" : "not usable"}.`

/** The diagnosis, one line per part, then each drift with its fix. */
export const diagnosisText = (d: KeyStorage.KeyStorageDiagnosis): ReadonlyArray<string> => [
  d.healthy ? "Key storage: in sync." : `Key storage: ${count(d.drifts.length)} ${d.drifts.length === 1 ? "problem" : "problems"}.`,
  `Key storage preference: ${PREFERENCE[d.preference._tag]}.`,
  serverLine(d.server),
  deviceLine(d.cachedKey),
  secretStorageLine(d.secretStorage),
  `Uploads: ${d.uploads.activeVersion === undefined ? "off" : `to version ${d.uploads.activeVersion}, ${count(d.uploads.pending)} waiting`}.`,
  ...d.drifts.map((drift) => `- ${DRIFT[drift.kind]}: ${ACTION[drift.action]}.`),
]

/** The steps of a repair, one line each. */
export const stepsText = (steps: ReadonlyArray<KeyStorage.RepairStep>): ReadonlyArray<string> =>
  steps.length === 0 ? ["Repair: nothing to do."] : steps.map(stepText)
