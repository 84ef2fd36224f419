/**
 * `status` in words: each verdict with why, and what it means for this device (uploads, restores) and what to do.
 */
import type { Recovery, TrustVerdict } from "@matrix-backup/core"
import { count } from "../Format.js"

/** The trust part of a status. */
export interface TrustSummary {
  readonly trusted: boolean
  readonly matchesDecryptionKey: boolean
  readonly details: TrustVerdict.TrustVerdict
}

const signerOf = (verdict: TrustVerdict.TrustVerdict): string => {
  if (verdict.deviceSignature.state === "ValidAndTrusted") return "this device"
  if (verdict.userIdentitySignature.state === "ValidAndTrusted") return "your cross-signing identity"
  const other = Object.entries(verdict.otherSignatures).find(([, check]) => check.state === "ValidAndTrusted")
  return other === undefined ? "a trusted key" : `your verified device ${other[0]}`
}

/** The server's "latest" is not the version shown (Dendrite, after its newest version was deleted): no uploads to it. */
const NOT_CURRENT =
  "but the homeserver reports no current backup (its newest version was deleted) and accepts no uploads to this one, " +
  "so new keys are backed up nowhere. Run `matrix-backup create` to make a new backup."

/**
 * Why a backup is or is not trusted, and what that means for uploads from this device; `notCurrent` when the version
 * shown is not the server's current one (it is the one whose key this device holds).
 */
export const trustText = (trust: TrustSummary, notCurrent = false): string => {
  if (trust.trusted) {
    const signer = `Trust: trusted, signed by ${signerOf(trust.details)}`
    return notCurrent ? `${signer}, ${NOT_CURRENT}` : `${signer}; this device backs up new keys to it.`
  }
  const why = trust.details.unsupportedAlgorithm
    ? "its algorithm is not one this tool can check"
    : "it is not signed by this device, by your cross-signing identity or by a device of yours this one has verified"
  switch (trust.details.decryptionKey) {
    case "Matches":
      return notCurrent
        ? `Trust: not signed by a key this device trusts (${why}), and this device holds its decryption key (from the recovery key), ${NOT_CURRENT}`
        : `Trust: not signed by a key this device trusts (${why}), but this device holds its decryption key (from the recovery key), so it backs up new keys to it.`
    case "PublicKeyDiffers":
    case "VersionDiffers":
      return `Trust: NOT trusted (${why}), and the key this device holds is for another backup: the backup may have been replaced. This device uploads nothing to it; restore with the recovery key if you trust it.`
    default:
      return `Trust: not trusted yet (${why}). This device uploads nothing to it until you run \`matrix-backup restore\` with the recovery key.`
  }
}

const NOT_READY: Record<Recovery.NotReadyReason, string> = {
  NoSecretStorage: "not set up: this account has no Secret Storage. Run `matrix-backup create` to make it and a backup",
  DefaultKeyMissing: "broken: the Secret Storage key was removed by another client. Run `matrix-backup create --force` to set it up again",
  UnsupportedDefaultKey: "the Secret Storage key uses an algorithm this tool cannot open",
  NoBackup: "Secret Storage exists, but there is no key backup. Run `matrix-backup create` with its recovery key to add one",
  BackupNotCurrent:
    "the backup shown is not the homeserver's current one (its newest version was deleted): this device holds its key and can restore it, " +
    "but a new device cannot find it and new keys are backed up nowhere. Run `matrix-backup create` to make a new backup",
  BackupKeyNotInSecretStorage: "the backup key is not in Secret Storage, so a new device cannot restore with the recovery key",
  BackupKeyMismatch: "Secret Storage holds the key of another backup, so a new device cannot restore this one with the recovery key",
  BackupKeyNotCached: "everything is on the homeserver, but this device does not hold the backup key yet. Run `matrix-backup restore` with the recovery key",
}

/** The recovery state in words, with the next step. */
export const recoveryText = (state: Recovery.RecoveryState): string => {
  switch (state._tag) {
    case "Ready":
      return "Recovery: ready; the backup key is in Secret Storage and on this device."
    case "NotReady":
      return `Recovery: ${NOT_READY[state.reason]}.`
    case "Error":
      return "Recovery: could not be checked (the homeserver or the local store failed); try again."
    case "Unknown":
      return "Recovery: not checked."
  }
}

/** Whether the engine's state (its tag) means this device uploads new keys. */
const uploadsOn = (uploads: string): boolean => uploads === "Enabled" || uploads === "Uploading"

/** Local keys and where they are backed up. */
export const localText = (total: number, pending: number, hasBackup: boolean, uploads: string): string => {
  if (!hasBackup) {
    return total === 0
      ? "This device: no keys stored."
      : `This device: ${count(total)} keys stored, and there is no backup: they are backed up nowhere. Run \`matrix-backup create\`.`
  }
  const on = uploadsOn(uploads)
  if (!on && pending > 0) {
    return (
      `This device: ${count(total)} keys stored; ${count(pending)} of them are not in the server's current backup, and this device does not upload to it, ` +
      "so nothing will back them up. Restore with that backup's recovery key (then import again), or run `matrix-backup create`."
    )
  }
  return `This device: ${count(total)} keys stored, ${count(pending)} waiting for upload (${on ? "uploads on" : "uploads off"}).`
}

/** Local keys not in a backup this device uploads to: all of them without a backup, the pending ones with uploads off. */
export const notBackedUp = (total: number, pending: number, hasBackup: boolean, uploads: string): number =>
  !hasBackup ? total : uploadsOn(uploads) ? 0 : pending
