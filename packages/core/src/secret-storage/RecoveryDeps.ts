/**
 * What the recovery operations work with: the services Recovery is built from, its options, and helpers they share
 * (the server's current backup, the fingerprint of the stored backup secret).
 */
import { type Context, Effect, Option, type Ref } from "effect"
import type { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { BackupVersion } from "../schema/Ids.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import type { BackupEvents } from "../services/BackupEvents.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { Entropy } from "../services/Entropy.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { SecretStorageCallbacks } from "../services/SecretStorageCallbacks.js"
import type { SecretStorage } from "./SecretStorage.js"

/** Options of the Recovery service. */
export interface RecoveryOptions {
  /** PBKDF2 iterations for new passphrase keys (default 500,000; lower only in tests). */
  readonly passphraseIterations?: number
  /** Whether `getSecretStorageStatus` requires the cross-signing secrets, as js-sdk does (default true). */
  readonly requireCrossSigningSecrets?: boolean
}

/** The services and state the recovery operations share. */
export interface Deps {
  readonly secretStorage: Context.Tag.Service<SecretStorage>
  readonly engine: Context.Tag.Service<KeyBackupEngine>
  readonly store: Context.Tag.Service<BackupStore>
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly events: Context.Tag.Service<BackupEvents>
  readonly backend: Context.Tag.Service<CryptoBackend>
  readonly entropy: Context.Tag.Service<Entropy>
  readonly callbacks: Context.Tag.Service<SecretStorageCallbacks>
  readonly options: RecoveryOptions
  /** Fingerprint (version + stored secret) of a 4S backup key found not to match, so the state can say so. */
  readonly knownMismatch: Ref.Ref<Option.Option<string>>
}

/** The server's current backup with a version; None when there is none. Never uses a cached copy. */
export const serverBackup = (deps: Pick<Deps, "api">): Effect.Effect<Option.Option<KeyBackupInfo & { readonly version: BackupVersion }>, HomeserverApiError> =>
  deps.api.getBackupVersion().pipe(
    Effect.map((info) => {
      const version = info.version
      return version === undefined ? Option.none() : Option.some({ ...info, version })
    }),
    Effect.catchTag("BackupNotFound", () => Effect.succeedNone),
  )

/** Identifies the stored backup secret for one backup version (changes when either changes). */
export const storedSecretFingerprint = (deps: Deps, version: string): Effect.Effect<string, HomeserverApiError> =>
  Effect.map(deps.api.getAccountData(MEGOLM_BACKUP_SECRET), (content) => `${version}\u0000${JSON.stringify(Option.getOrNull(content))}`)
