/**
 * The diagnosis as stable JSON for scripts and other languages (`matrix-backup doctor --json`, DESIGN.md §5): each
 * variant named by `kind` (the recovery state by `state`), never by Effect's internal `_tag`, plus the lines
 * `describeDiagnosis` gives, so a script can print what a person would read.
 */
import type { RecoveryState } from "../secret-storage/RecoveryState.js"
import { type DiagnosisLine, describeDiagnosis } from "./DescribeDiagnosis.js"
import type { CachedKeyFacts, Drift, KeyStorageDiagnosis, SecretStorageFacts, ServerBackupFacts, UploadFacts } from "./KeyStorageDiagnosis.js"
import type { KeyStoragePreference } from "./KeyStoragePreference.js"

/** `m.key_backup` as the account says: `On`, `Off` (with the event it was read from) or `Unset`. */
export type PreferenceJson = { readonly kind: "On" | "Off"; readonly source: string } | { readonly kind: "Unset" }

/** The server's current backup. */
export type ServerJson =
  | { readonly kind: "None" }
  | {
      readonly kind: "Backup"
      readonly version: string
      readonly algorithm: string
      readonly trusted: boolean
      readonly matchesDecryptionKey: boolean
      readonly trustReasons: ReadonlyArray<string>
      readonly decryptionKey: string
      readonly unsupportedAlgorithm: boolean
      readonly masterKeySignature: "Valid" | "Missing" | "NotHeld"
    }

/** The key this device holds. */
export type CachedKeyJson =
  | { readonly kind: "None" }
  | { readonly kind: "Cached"; readonly version: string; readonly matchesCurrent: boolean; readonly opensLiveVersion?: string }

/** The recovery state: `Ready`, `NotReady` (with `reason`), `Unknown` or `Error`. */
export interface RecoveryJson {
  readonly state: RecoveryState["_tag"]
  readonly reason?: string
  readonly defaultKeyId?: string
  readonly backupVersion?: string
}

/** The whole document. */
export interface KeyStorageDiagnosisJson {
  readonly healthy: boolean
  readonly preference: PreferenceJson
  readonly server: ServerJson
  readonly cachedKey: CachedKeyJson
  readonly secretStorage: SecretStorageFacts
  readonly uploads: UploadFacts
  readonly recovery: RecoveryJson
  readonly drifts: ReadonlyArray<Drift>
  readonly lines: ReadonlyArray<DiagnosisLine>
}

const recoveryJson = (state: RecoveryState): RecoveryJson => {
  switch (state._tag) {
    case "Ready":
      return { state: state._tag, defaultKeyId: state.defaultKeyId, backupVersion: state.backupVersion }
    case "NotReady":
      return {
        state: state._tag,
        reason: state.reason,
        ...(state.defaultKeyId === undefined ? {} : { defaultKeyId: state.defaultKeyId }),
        ...(state.backupVersion === undefined ? {} : { backupVersion: state.backupVersion }),
      }
    case "Unknown":
    case "Error":
      // An Error's cause is left out: the document stays the same for the same account, and says no more than it must.
      return { state: state._tag }
  }
}

const preferenceJson = (preference: KeyStoragePreference): PreferenceJson =>
  preference._tag === "Unset" ? { kind: "Unset" } : { kind: preference._tag, source: preference.source }

const serverJson = (server: ServerBackupFacts): ServerJson => {
  if (server._tag === "None") return { kind: "None" }
  const { _tag, ...facts } = server
  return { kind: _tag, ...facts }
}

const cachedKeyJson = (cached: CachedKeyFacts): CachedKeyJson => {
  if (cached._tag === "None") return { kind: "None" }
  const { _tag, ...facts } = cached
  return { kind: _tag, ...facts }
}

/** The diagnosis as the stable JSON document. */
export const diagnosisJson = (d: KeyStorageDiagnosis): KeyStorageDiagnosisJson => ({
  healthy: d.healthy,
  preference: preferenceJson(d.preference),
  server: serverJson(d.server),
  cachedKey: cachedKeyJson(d.cachedKey),
  secretStorage: d.secretStorage,
  uploads: d.uploads,
  recovery: recoveryJson(d.recovery),
  drifts: d.drifts,
  lines: describeDiagnosis(d),
})
