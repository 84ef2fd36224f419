/**
 * The recovery state as a plain object for Promise users: is the backup key safe in Secret Storage and usable on this
 * device, and if not, why (`reason`, the `Recovery.NotReadyReason`s).
 */
import type { NotReadyReason, RecoveryState } from "../secret-storage/RecoveryState.js"

export type { NotReadyReason }

/** `Ready`, `NotReady` with a reason, `Unknown` (not computed yet) or `Error` (the server or store could not be read). */
export type RecoveryStateJs =
  | { readonly state: "Unknown" }
  | { readonly state: "Ready"; readonly defaultKeyId: string; readonly backupVersion: string }
  | { readonly state: "NotReady"; readonly reason: NotReadyReason; readonly defaultKeyId?: string; readonly backupVersion?: string }
  | { readonly state: "Error"; readonly cause: string }

/** The plain form of a state. */
export const toRecoveryStateJs = (state: RecoveryState): RecoveryStateJs => {
  switch (state._tag) {
    case "Unknown":
      return { state: "Unknown" }
    case "Ready":
      return { state: "Ready", defaultKeyId: state.defaultKeyId, backupVersion: state.backupVersion }
    case "NotReady":
      return {
        state: "NotReady",
        reason: state.reason,
        ...(state.defaultKeyId === undefined ? {} : { defaultKeyId: state.defaultKeyId }),
        ...(state.backupVersion === undefined ? {} : { backupVersion: state.backupVersion }),
      }
    case "Error":
      return { state: "Error", cause: state.cause }
  }
}
