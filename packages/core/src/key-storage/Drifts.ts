/**
 * Reading drifts from the facts: a pure function, so every transition has a unit test. Order: the account's
 * choice, the server's backup, Secret Storage, the cached key, then uploads.
 */
import type { Drift, KeyStorageFacts, RepairAction, SecretStorageFacts, ServerBackupFacts } from "./KeyStorageDiagnosis.js"

type Backup = Extract<ServerBackupFacts, { readonly _tag: "Backup" }>

/** The action that gets this device the current key: from 4S when it holds it, else the user (or a reset). */
const fetchKeyAction = (secretStorage: SecretStorageFacts, backupTrusted: boolean): RepairAction =>
  secretStorage.backupKey === "MatchesCurrent"
    ? "CacheKeyFromSecretStorage"
    : secretStorage.backupKey === "Locked"
      ? "EnterRecoveryKey"
      : backupTrusted
        ? "EnterRecoveryKey"
        : "ResetBackup"

const secretStorageDrifts = (facts: KeyStorageFacts): ReadonlyArray<Drift> => {
  switch (facts.secretStorage.defaultKey) {
    case "NotSet":
      return [{ kind: "NoSecretStorage", action: "SetUpSecretStorage" }]
    case "Absent":
      return [{ kind: "DefaultKeyMissing", action: "SetUpSecretStorage" }]
    case "Unknown":
      return [{ kind: "UnsupportedDefaultKey", action: "SetUpSecretStorage" }]
    case "Aes":
      return []
  }
}

/** Drifts about where the current version's key is: this device and 4S. */
const keyDrifts = (facts: KeyStorageFacts, backup: Backup): ReadonlyArray<Drift> => {
  const drifts: Array<Drift> = []
  const cached = facts.cachedKey
  const usable = backup.trusted || (cached._tag === "Cached" && cached.matchesCurrent)
  if (!usable) {
    const older = cached._tag === "Cached" && cached.opensLiveVersion !== undefined && cached.opensLiveVersion !== backup.version
    drifts.push({
      kind: "BackupNotTrusted",
      action: fetchKeyAction(facts.secretStorage, false),
      detail: `version ${backup.version}: ${backup.trustReasons.join(", ")}${older ? `; our key opens older version ${cached.opensLiveVersion}` : ""}`,
    })
  }
  if (cached._tag === "None") drifts.push({ kind: "BackupKeyNotCached", action: fetchKeyAction(facts.secretStorage, backup.trusted) })
  else if (!cached.matchesCurrent) {
    drifts.push({ kind: "CachedKeyForOtherVersion", action: fetchKeyAction(facts.secretStorage, backup.trusted), detail: `cached for version ${cached.version}` })
  } else if (facts.secretStorage.defaultKey === "Aes") {
    if (facts.secretStorage.backupKey === "NotStored") drifts.push({ kind: "BackupKeyNotInSecretStorage", action: "StoreKeyInSecretStorage" })
    if (facts.secretStorage.backupKey === "Differs" || facts.secretStorage.backupKey === "Malformed") {
      drifts.push({ kind: "BackupKeyMismatch", action: "StoreKeyInSecretStorage" })
    }
  }
  return drifts
}

/**
 * The current version opens with a key this device holds or is about to take from 4S, and a master key is at hand
 * (the app's, or in an open 4S), yet the version lacks its signature: devices that trust the user's identity would
 * not trust the backup.
 */
const signatureDrifts = (facts: KeyStorageFacts, backup: Backup): ReadonlyArray<Drift> => {
  const opens = (facts.cachedKey._tag === "Cached" && facts.cachedKey.matchesCurrent) || facts.secretStorage.backupKey === "MatchesCurrent"
  return opens && backup.masterKeySignature === "Missing" ? [{ kind: "BackupNotCrossSigned", action: "SignBackup", detail: `version ${backup.version}` }] : []
}

/** Drifts about uploads to a usable current version. */
const uploadDrifts = (facts: KeyStorageFacts, backup: Backup): ReadonlyArray<Drift> => {
  const usable = backup.trusted || (facts.cachedKey._tag === "Cached" && facts.cachedKey.matchesCurrent)
  if (!usable) return []
  if (facts.uploads.activeVersion !== backup.version) {
    return [{ kind: "UploadsStopped", action: "ResumeUploads", detail: `uploads are ${facts.uploads.state}` }]
  }
  return facts.uploads.pending > 0 ? [{ kind: "KeysPending", action: "UploadPendingKeys", detail: `${facts.uploads.pending} keys` }] : []
}

/** Every drift in the facts, in repair order. */
export const driftsOf = (facts: KeyStorageFacts): ReadonlyArray<Drift> => {
  if (facts.preference._tag === "Off") {
    return facts.server._tag === "Backup" ? [{ kind: "KeyStorageOffButBackupExists", action: "TurnOnKeyStorage", detail: `version ${facts.server.version}` }] : []
  }
  const server = facts.server
  if (server._tag === "None") return [{ kind: "NoBackup", action: "ResetBackup" }, ...secretStorageDrifts(facts)]
  if (server.unsupportedAlgorithm) return [{ kind: "UnsupportedAlgorithm", action: "ResetBackup", detail: server.algorithm }]
  return [...secretStorageDrifts(facts), ...keyDrifts(facts, server), ...signatureDrifts(facts, server), ...uploadDrifts(facts, server)]
}
