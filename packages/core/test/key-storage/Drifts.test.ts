// The drifts as a pure function of the facts: each drift, its action, and the order a repair follows.
import { describe, expect, it } from "@effect/vitest"
import { driftsOf } from "../../src/key-storage/Drifts.js"
import type { KeyStorageFacts, ServerBackupFacts } from "../../src/key-storage/KeyStorageDiagnosis.js"
import { RecoveryState } from "../../src/secret-storage/RecoveryState.js"

const backup: Extract<ServerBackupFacts, { readonly _tag: "Backup" }> = {
  _tag: "Backup",
  version: "3",
  algorithm: "m.megolm_backup.v1.curve25519-aes-sha2",
  trusted: true,
  matchesDecryptionKey: true,
  trustReasons: ["ed25519:DEV: Trusted"],
  decryptionKey: "Matches",
  unsupportedAlgorithm: false,
  masterKeySignature: "NotHeld",
}
const healthy: KeyStorageFacts = {
  preference: { _tag: "On", source: "m.key_backup" },
  server: backup,
  cachedKey: { _tag: "Cached", version: "3", matchesCurrent: true, opensLiveVersion: "3" },
  secretStorage: { defaultKey: "Aes", defaultKeyId: "k", backupKey: "MatchesCurrent" },
  uploads: { state: "Enabled", activeVersion: "3", pending: 0 },
  recovery: RecoveryState.Ready({ defaultKeyId: "k", backupVersion: "3" }),
}
const untrusted = { ...backup, trusted: false, matchesDecryptionKey: false, trustReasons: ["ed25519:OTHER: DeviceNotVerified"] }
const kinds = (facts: KeyStorageFacts) => driftsOf(facts).map((d) => [d.kind, d.action])

describe("driftsOf", () => {
  it("finds nothing when everything agrees; a locked 4S alone is no drift", () => {
    expect(driftsOf(healthy)).toEqual([])
    expect(driftsOf({ ...healthy, secretStorage: { ...healthy.secretStorage, backupKey: "Locked" } })).toEqual([])
  })

  it("an account that chose no key storage: only a live backup is a drift, and only the user turns it on", () => {
    expect(kinds({ ...healthy, preference: { _tag: "Off", source: "m.key_backup" } })).toEqual([["KeyStorageOffButBackupExists", "TurnOnKeyStorage"]])
    expect(driftsOf({ ...healthy, preference: { _tag: "Off", source: "m.key_backup" }, server: { _tag: "None" } })).toEqual([])
  })

  it("no backup, or one we can never use, needs a reset", () => {
    expect(kinds({ ...healthy, server: { _tag: "None" } })).toEqual([["NoBackup", "ResetBackup"]])
    expect(kinds({ ...healthy, server: { ...backup, unsupportedAlgorithm: true } })).toEqual([["UnsupportedAlgorithm", "ResetBackup"]])
  })

  it("the current version is not trusted: its key from 4S when 4S holds it, else the recovery key, else a reset", () => {
    const stale = { _tag: "Cached", version: "2", matchesCurrent: false, opensLiveVersion: "2" } as const
    expect(kinds({ ...healthy, server: untrusted, cachedKey: stale })).toEqual([
      ["BackupNotTrusted", "CacheKeyFromSecretStorage"],
      ["CachedKeyForOtherVersion", "CacheKeyFromSecretStorage"],
    ])
    const locked = { ...healthy, server: untrusted, cachedKey: stale, secretStorage: { ...healthy.secretStorage, backupKey: "Locked" as const } }
    expect(kinds(locked)).toEqual([["BackupNotTrusted", "EnterRecoveryKey"], ["CachedKeyForOtherVersion", "EnterRecoveryKey"]])
    const lost = { ...healthy, server: untrusted, cachedKey: stale, secretStorage: { ...healthy.secretStorage, backupKey: "Differs" as const } }
    expect(kinds(lost)).toEqual([["BackupNotTrusted", "ResetBackup"], ["CachedKeyForOtherVersion", "ResetBackup"]])
    expect(driftsOf(lost)[0]?.detail).toBe("version 3: ed25519:OTHER: DeviceNotVerified; our key opens older version 2")
  })

  it("a trusted backup whose key this device lacks: from 4S, or the recovery key", () => {
    expect(kinds({ ...healthy, cachedKey: { _tag: "None" } })).toEqual([["BackupKeyNotCached", "CacheKeyFromSecretStorage"]])
    const noSecret = { ...healthy, cachedKey: { _tag: "None" as const }, secretStorage: { ...healthy.secretStorage, backupKey: "NotStored" as const } }
    expect(kinds(noSecret)).toEqual([["BackupKeyNotCached", "EnterRecoveryKey"]])
  })

  it("the device holds the right key but 4S holds another or none: store it in 4S", () => {
    expect(kinds({ ...healthy, secretStorage: { ...healthy.secretStorage, backupKey: "Differs" } })).toEqual([["BackupKeyMismatch", "StoreKeyInSecretStorage"]])
    expect(kinds({ ...healthy, secretStorage: { ...healthy.secretStorage, backupKey: "Malformed" } })).toEqual([["BackupKeyMismatch", "StoreKeyInSecretStorage"]])
    expect(kinds({ ...healthy, secretStorage: { ...healthy.secretStorage, backupKey: "NotStored" } })).toEqual([["BackupKeyNotInSecretStorage", "StoreKeyInSecretStorage"]])
  })

  it("4S that is not set up, gone, or of another algorithm is the app's to set up", () => {
    expect(kinds({ ...healthy, secretStorage: { defaultKey: "NotSet", backupKey: "NotStored" } })).toEqual([["NoSecretStorage", "SetUpSecretStorage"]])
    expect(kinds({ ...healthy, secretStorage: { defaultKey: "Absent", defaultKeyId: "k", backupKey: "NotStored" } })).toEqual([["DefaultKeyMissing", "SetUpSecretStorage"]])
    expect(kinds({ ...healthy, secretStorage: { defaultKey: "Unknown", defaultKeyId: "k", backupKey: "NotStored" } })).toEqual([["UnsupportedDefaultKey", "SetUpSecretStorage"]])
  })

  it("uploads stopped on a usable backup resume; pending keys on the active one are uploaded", () => {
    expect(kinds({ ...healthy, uploads: { state: "Disabled", pending: 0 } })).toEqual([["UploadsStopped", "ResumeUploads"]])
    expect(kinds({ ...healthy, uploads: { state: "Enabled", activeVersion: "2", pending: 4 } })).toEqual([["UploadsStopped", "ResumeUploads"]])
    expect(driftsOf({ ...healthy, uploads: { state: "Uploading", activeVersion: "3", pending: 4 } })).toEqual([{ kind: "KeysPending", action: "UploadPendingKeys", detail: "4 keys" }])
    // Uploads to a backup we cannot use are no drift of their own: the backup is.
    expect(kinds({ ...healthy, server: untrusted, cachedKey: { _tag: "None" }, uploads: { state: "Disabled", pending: 0 } })).toEqual([
      ["BackupNotTrusted", "CacheKeyFromSecretStorage"],
      ["BackupKeyNotCached", "CacheKeyFromSecretStorage"],
    ])
  })

  it("a version our key (or the one in 4S) opens but lacking the master key's signature is signed; one we cannot open never", () => {
    expect(driftsOf({ ...healthy, server: { ...backup, masterKeySignature: "Valid" } })).toEqual([])
    const unsigned = { ...backup, masterKeySignature: "Missing" as const }
    expect(driftsOf({ ...healthy, server: unsigned })).toEqual([
      { kind: "BackupNotCrossSigned", action: "SignBackup", detail: "version 3" },
    ])
    // The key comes from 4S first, then the version is signed.
    expect(kinds({ ...healthy, server: unsigned, cachedKey: { _tag: "None" } })).toEqual([
      ["BackupKeyNotCached", "CacheKeyFromSecretStorage"],
      ["BackupNotCrossSigned", "SignBackup"],
    ])
    const foreign = { ...healthy, server: { ...unsigned, trusted: false, matchesDecryptionKey: false }, cachedKey: { _tag: "None" as const }, secretStorage: { ...healthy.secretStorage, backupKey: "Differs" as const } }
    expect(kinds(foreign).map(([kind]) => kind)).not.toContain("BackupNotCrossSigned")
  })
})
