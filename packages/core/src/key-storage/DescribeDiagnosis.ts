/**
 * The diagnosis and the repair's steps in words, one line each, so every front end (the `doctor` command, the
 * playground, an app's settings page) says the same thing about the same account. Front ends add only how to act
 * (a flag, a button); lines never hold key material.
 */
import type { RepairStep } from "./Repair.js"
import type {
  CachedKeyFacts,
  DriftKind,
  KeyStorageDiagnosis,
  RepairAction,
  SecretStorageFacts,
  ServerBackupFacts,
  StoredBackupKey,
} from "./KeyStorageDiagnosis.js"
import type { KeyStoragePreference } from "./KeyStoragePreference.js"

/** The part of key storage a line is about, or the drift it names. */
export type DiagnosisTopic = "Summary" | "Preference" | "Backup" | "Device" | "SecretStorage" | "Uploads" | DriftKind

/** One line; a drift's line carries the action that fixes it. */
export interface DiagnosisLine {
  readonly topic: DiagnosisTopic
  readonly action?: RepairAction
  readonly text: string
}

const PREFERENCE: Record<KeyStoragePreference["_tag"], string> = {
  On: "on",
  Off: "off (the account chose no key storage: nothing is backed up)",
  Unset: "not recorded",
}

const STORED: Record<StoredBackupKey, string> = {
  NotStored: "holds no backup key",
  Locked: "holds a backup key (give the recovery key to check it)",
  Malformed: "holds a backup key that cannot be read",
  Stored: "holds a backup key",
  MatchesCurrent: "holds the key of the current backup",
  Differs: "holds the key of ANOTHER backup",
}

const PROBLEM: Record<DriftKind, string> = {
  KeyStorageOffButBackupExists: "the account chose no key storage, yet a backup exists; this device uploads nothing to it",
  NoBackup: "there is no key backup on the homeserver",
  BackupNotTrusted: "the current backup is neither signed by a key this device trusts nor opened by a key it holds; it uploads nothing to it",
  UnsupportedAlgorithm: "the current backup uses an algorithm this library cannot use",
  NoSecretStorage: "this account has no Secret Storage",
  DefaultKeyMissing: "the Secret Storage key was removed by another client",
  UnsupportedDefaultKey: "the Secret Storage key uses an algorithm this library cannot open",
  BackupKeyNotCached: "this device does not hold the current backup's key",
  CachedKeyForOtherVersion: "this device holds the key of another backup version",
  BackupKeyNotInSecretStorage: "the backup key is not in Secret Storage, so a new device cannot restore with the recovery key",
  BackupKeyMismatch: "Secret Storage holds the key of another backup, so a new device cannot restore this one",
  BackupNotCrossSigned: "the current backup lacks the cross-signing signature, so devices that trust your identity do not trust it",
  UploadsStopped: "uploads to the current backup are stopped",
  KeysPending: "keys are waiting to be backed up",
}

const FIX: Record<RepairAction, string> = {
  CacheKeyFromSecretStorage: "the repair takes the key from Secret Storage (with the recovery key)",
  StoreKeyInSecretStorage: "the repair stores this device's key in Secret Storage (with the recovery key)",
  ResumeUploads: "the repair checks the backup again and resumes uploads",
  SignBackup: "the repair signs it with the cross-signing key",
  UploadPendingKeys: "the repair uploads them",
  ResetBackup: "only a new backup fixes this, with every key this device holds (the other versions are deleted; the repair asks first)",
  TurnOnKeyStorage: "turn key storage back on (the repair does it only when asked)",
  EnterRecoveryKey: "give the recovery key (or passphrase)",
  SetUpSecretStorage: "set up Secret Storage",
}

const backupText = (server: ServerBackupFacts): string =>
  server._tag === "None"
    ? "Backup: none on the homeserver."
    : `Backup: version ${server.version}, ${server.trusted ? "trusted" : "not trusted"}${server.matchesDecryptionKey ? ", opened by this device's key" : ""}.`

const deviceText = (cached: CachedKeyFacts): string =>
  cached._tag === "None"
    ? "This device: holds no backup key."
    : `This device: holds the key of version ${cached.version}${cached.matchesCurrent ? " (the current one)" : cached.opensLiveVersion === undefined ? "" : " (an older version still on the homeserver)"}.`

const secretStorageText = (ssss: SecretStorageFacts): string =>
  ssss.defaultKey === "Aes" ? `Secret Storage: ${STORED[ssss.backupKey]}.` : `Secret Storage: ${ssss.defaultKey === "NotSet" ? "not set up" : "not usable"}.`

const plural = (n: number, one: string, many: string) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/** The diagnosis: a summary, one line per part of key storage, then each drift with what fixes it. */
export const describeDiagnosis = (d: KeyStorageDiagnosis): ReadonlyArray<DiagnosisLine> => [
  { topic: "Summary", text: d.healthy ? "Key storage: in sync." : `Key storage: ${plural(d.drifts.length, "problem", "problems")}.` },
  { topic: "Preference", text: `Key storage preference: ${PREFERENCE[d.preference._tag]}.` },
  { topic: "Backup", text: backupText(d.server) },
  { topic: "Device", text: deviceText(d.cachedKey) },
  { topic: "SecretStorage", text: secretStorageText(d.secretStorage) },
  {
    topic: "Uploads",
    text: `Uploads: ${d.uploads.activeVersion === undefined ? "off" : `to version ${d.uploads.activeVersion}, ${plural(d.uploads.pending, "key", "keys")} waiting`}.`,
  },
  ...d.drifts.map((drift): DiagnosisLine => ({ topic: drift.kind, action: drift.action, text: `- ${PROBLEM[drift.kind]}: ${FIX[drift.action]}.` })),
]

const DONE: Record<RepairStep["action"], string> = {
  OpenSecretStorage: "opened Secret Storage",
  CacheKeyFromSecretStorage: "took the backup key from Secret Storage",
  StoreKeyInSecretStorage: "stored this device's backup key in Secret Storage",
  ResumeUploads: "checked the backup again",
  SignBackup: "signed the backup with the cross-signing key",
  UploadPendingKeys: "backed up every waiting key",
  RestoreOlderVersion: "restored the older backup version first",
  ResetBackup: "made a new backup",
  TurnOnKeyStorage: "turned key storage on",
  EnterRecoveryKey: "opened Secret Storage",
  SetUpSecretStorage: "set up Secret Storage",
}

const TRIED: Record<RepairStep["action"], string> = {
  OpenSecretStorage: "opening Secret Storage: check the recovery key",
  CacheKeyFromSecretStorage: "taking the backup key from Secret Storage",
  StoreKeyInSecretStorage: "storing the backup key in Secret Storage",
  ResumeUploads: "checking the backup again",
  SignBackup: "signing the backup",
  UploadPendingKeys: "backing up the waiting keys",
  RestoreOlderVersion: "restoring the older backup version, so no new backup was made",
  ResetBackup: "making a new backup",
  TurnOnKeyStorage: "recording that key storage is on",
  EnterRecoveryKey: "opening Secret Storage",
  SetUpSecretStorage: "setting up Secret Storage",
}

/** One repair step: what was done, why it was skipped (the step's own reason), or what failed. */
export const describeStep = (step: RepairStep): string => {
  switch (step.outcome) {
    case "Done":
      return `Repair: ${DONE[step.action]}${step.detail === undefined ? "" : ` (${step.detail})`}.`
    case "Skipped":
      return `Repair: not done (${step.detail ?? step.action}).`
    case "Failed":
      return `Repair: failed (${TRIED[step.action]}); nothing was lost, diagnose again to see where things stand.`
  }
}
