/**
 * The typed report of everything in key storage that can drift out of sync (the server's backup, the cached key,
 * Secret Storage, the MSC4287 preference, uploads), and the drifts read from it, each with the action that fixes it.
 */
import type { BackupState } from "../backup/BackupState.js"
import type { RecoveryState } from "../secret-storage/RecoveryState.js"
import type { TrustVerdict } from "../trust/TrustVerdict.js"
import type { KeyStoragePreference } from "./KeyStoragePreference.js"

/** The server's current backup and our verdict on it. */
export type ServerBackupFacts =
  | { readonly _tag: "None" }
  | {
      readonly _tag: "Backup"
      readonly version: string
      readonly algorithm: string
      readonly trusted: boolean
      /** The cached key is this version's key. */
      readonly matchesDecryptionKey: boolean
      /** Why it is (not) trusted: one `keyId: reason` per signer, and the decryption key's verdict. */
      readonly trustReasons: ReadonlyArray<string>
      readonly decryptionKey: TrustVerdict["decryptionKey"]
      readonly unsupportedAlgorithm: boolean
      /**
       * The cross-signing master key's signature on it (what lets other devices that trust the user's identity trust
       * the backup): `Valid` when the master key the app gave, or else the account's published one, signed it;
       * otherwise `Missing` when a master key is at hand to sign with (given by the app, or in an open Secret Storage),
       * `NotHeld` when none is.
       */
      readonly masterKeySignature: "Valid" | "Missing" | "NotHeld"
    }

/** The backup key this device keeps. `opensLiveVersion`: a live version (current or older) the key opens. */
export type CachedKeyFacts =
  | { readonly _tag: "None" }
  | { readonly _tag: "Cached"; readonly version: string; readonly matchesCurrent: boolean; readonly opensLiveVersion?: string }

/**
 * What 4S holds for the backup key under the default key: `Locked` when the 4S key was not given so it could not be
 * read, `Stored` when there is no backup to compare it with.
 */
export type StoredBackupKey = "NotStored" | "Locked" | "Malformed" | "Stored" | "MatchesCurrent" | "Differs"

/** Secret Storage as seen from this device. */
export interface SecretStorageFacts {
  /** `NotSet`: no `m.secret_storage.default_key`; `Absent`: it names a missing description; `Unknown`: not AES. */
  readonly defaultKey: "NotSet" | "Absent" | "Aes" | "Unknown"
  readonly defaultKeyId?: string
  readonly backupKey: StoredBackupKey
}

/** Where uploads stand. */
export interface UploadFacts {
  readonly state: BackupState["_tag"]
  readonly activeVersion?: string
  /** Keys waiting for the active version (0 when uploads are off). */
  readonly pending: number
}

/** What `repairKeyStorage` (or the app) does about a drift. */
export type RepairAction =
  | "CacheKeyFromSecretStorage"
  | "StoreKeyInSecretStorage"
  | "ResumeUploads"
  /**
   * Signs the `auth_data` of a version our key opens with the master key (the app's, or `m.cross_signing.master` from
   * an open 4S), once it is checked against the account's published one (`PUT /room_keys/version/{v}`).
   */
  | "SignBackup"
  | "UploadPendingKeys"
  /** Needs `allowReset`: a new version, with the keys we hold carried into it. */
  | "ResetBackup"
  /** Needs `turnOnKeyStorage`: the account chose no key storage. */
  | "TurnOnKeyStorage"
  /** The app must give the recovery key (or passphrase) so 4S can be read. */
  | "EnterRecoveryKey"
  /** The app must set up Secret Storage (`bootstrapSecretStorage`). */
  | "SetUpSecretStorage"

/** One way key storage is out of sync. */
export type DriftKind =
  | "KeyStorageOffButBackupExists"
  | "NoBackup"
  | "BackupNotTrusted"
  | "UnsupportedAlgorithm"
  | "NoSecretStorage"
  | "DefaultKeyMissing"
  | "UnsupportedDefaultKey"
  | "BackupKeyNotCached"
  | "CachedKeyForOtherVersion"
  | "BackupKeyNotInSecretStorage"
  | "BackupKeyMismatch"
  | "BackupNotCrossSigned"
  | "UploadsStopped"
  | "KeysPending"

/** A drift, with its fix and, where it helps, a short non-secret detail. */
export interface Drift {
  readonly kind: DriftKind
  readonly action: RepairAction
  readonly detail?: string
}

/** The whole report. `healthy`: no drift. */
export interface KeyStorageDiagnosis {
  readonly preference: KeyStoragePreference
  readonly server: ServerBackupFacts
  readonly cachedKey: CachedKeyFacts
  readonly secretStorage: SecretStorageFacts
  readonly uploads: UploadFacts
  /** The recovery state the Recovery service computes from the same account (its first "not ready" reason). */
  readonly recovery: RecoveryState
  readonly drifts: ReadonlyArray<Drift>
  readonly healthy: boolean
}

/** The facts the drifts are read from. */
export type KeyStorageFacts = Omit<KeyStorageDiagnosis, "drifts" | "healthy">
