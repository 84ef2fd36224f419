/**
 * Failures of Secret Storage (4S): every reason a secret cannot be read, written or a key accepted.
 * Errors name key IDs and secret names, never key material or plaintext.
 */
import { Data } from "effect"

/** Why a 4S operation failed. */
export type SecretStorageErrorReason =
  /** No `m.secret_storage.default_key` is set (or it was blanked with `{}`). */
  | "NoDefaultKey"
  /** The named key (or the one a secret is encrypted with) has no description in account data. */
  | "KeyNotFound"
  /** The key description (or a secret's only keys) use an algorithm other than `m.secret_storage.v1.aes-hmac-sha2`. */
  | "UnknownAlgorithm"
  /** The app's `getSecretStorageKey` callback gave no key (user cancelled, or no callbacks). */
  | "NoKeyGiven"
  /** The callback answered with a key ID that was not offered. */
  | "UnknownKeyReturned"
  /** The key is not 32 bytes. */
  | "InvalidKey"
  /** The key fails the key check of its description (wrong recovery key or passphrase). */
  | "WrongKey"
  /** The secret's MAC does not verify under the (checked) key: the stored secret is damaged or forged. */
  | "BadMac"
  /** The secret is not stored (absent, or `{}`), where the operation needs it. */
  | "NotStored"
  /** Account data that does not have the expected shape. */
  | "Malformed"
  /** A passphrase was given but the key has no `m.pbkdf2` parameters. */
  | "NoPassphrase"
  /** The app's callback threw or rejected. */
  | "CallbackFailed"

/** A typed 4S failure. `keyId` and `secretName` say where; nothing secret is carried. */
export class SecretStorageError extends Data.TaggedError("SecretStorageError")<{
  readonly reason: SecretStorageErrorReason
  readonly keyId?: string
  readonly secretName?: string
  /** Extra evidence (schema issue paths, the unknown algorithm): never values of secrets. */
  readonly detail?: string
}> {
  override get message(): string {
    const where = [this.keyId === undefined ? "" : ` key ${this.keyId}`, this.secretName === undefined ? "" : ` secret ${this.secretName}`].join("")
    return `Secret storage: ${this.reason}${where}${this.detail === undefined ? "" : ` (${this.detail})`}`
  }
}

/** Shorthand used across the module. */
export const secretStorageError = (
  reason: SecretStorageErrorReason,
  where: { readonly keyId?: string; readonly secretName?: string; readonly detail?: string } = {},
): SecretStorageError => new SecretStorageError({ reason, ...where })
