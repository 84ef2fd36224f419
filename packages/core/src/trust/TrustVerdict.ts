/**
 * The outcome of checking a backup's `auth_data` signatures (PROTOCOL.md §7.5): one state per signer under our
 * own user id, with the reason, and the two booleans matrix-js-sdk exposes as `BackupTrustInfo`.
 */

/** matrix-rust-sdk's `SignatureState`. */
export type SignatureState = "Missing" | "Invalid" | "ValidButNotTrusted" | "ValidAndTrusted"

/** Why a signature got its state. */
export type SignatureReason =
  | "NoSignature"
  | "BadSignature"
  | "Malformed"
  | "Trusted"
  | "UnknownDevice"
  | "DeviceKeysNotSelfSigned"
  | "DeviceNotVerified"
  | "NoMasterKey"
  | "MasterKeyMismatch"
  | "IdentityNotVerified"
  | "KeysQueryFailed"
  /** Our device's Ed25519 key is not known locally (the app runs without the device's signing key). */
  | "DeviceKeyUnknown"

/** One signer's verdict. `keyId` is the full key id ("ed25519:<id>"). */
export interface SignatureCheck {
  readonly keyId: string
  readonly state: SignatureState
  readonly reason: SignatureReason
}

/** Per-signer detail, like matrix-rust-sdk's `SignatureVerification`. */
export interface TrustVerdict {
  /** Our own current device. */
  readonly deviceSignature: SignatureCheck
  /** Our cross-signing master key. */
  readonly userIdentitySignature: SignatureCheck
  /** Other devices of ours, by device id. */
  readonly otherSignatures: Readonly<Record<string, SignatureCheck>>
  /** Why `matchesDecryptionKey` is what it is. */
  readonly decryptionKey: "Matches" | "NoKeyStored" | "PublicKeyDiffers" | "VersionDiffers" | "NotCurve25519"
  /** Set when the algorithm can never be trusted (only curve25519 can). */
  readonly unsupportedAlgorithm: boolean
}

/** matrix-js-sdk's `BackupTrustInfo`. */
export interface BackupTrustInfo {
  /** True if there is a valid signature on the backup from a trusted key of ours. */
  readonly trusted: boolean
  /** True if the backup's public key is the one of the decryption key we hold (for this version). */
  readonly matchesDecryptionKey: boolean
}

/** `BackupTrustInfo` with the per-signer detail. */
export interface BackupTrustResult extends BackupTrustInfo {
  readonly details: TrustVerdict
}

/** True only for a valid signature from a trusted key. */
export const isValidAndTrusted = (check: SignatureCheck): boolean => check.state === "ValidAndTrusted"

/** True for a cryptographically valid signature, trusted or not (the predicate rust-sdk meant `signed()` to be). */
export const isSigned = (check: SignatureCheck): boolean =>
  check.state === "ValidAndTrusted" || check.state === "ValidButNotTrusted"

/** Every signer's check, own device first, then the master key, then the other devices. */
export const allChecks = (verdict: TrustVerdict): ReadonlyArray<SignatureCheck> => [
  verdict.deviceSignature,
  verdict.userIdentitySignature,
  ...Object.values(verdict.otherSignatures),
]

/** `trusted`: any signer is `ValidAndTrusted`, and the algorithm can be trusted at all. */
export const isTrusted = (verdict: TrustVerdict): boolean =>
  !verdict.unsupportedAlgorithm && allChecks(verdict).some(isValidAndTrusted)
