/**
 * Recovery keys as plain functions for Promise users, named like matrix-js-sdk's crypto-api: `decodeRecoveryKey`
 * returns the 32 key bytes (what `getSecretStorageKey` answers with) or throws a `KeyBackupClientError`.
 */
import { Either } from "effect"
import * as RecoveryKey from "../crypto/RecoveryKey.js"
import { KeyBackupClientError } from "./ClientError.js"

/**
 * The 32-byte key in a recovery key (`EsT... ....`; any whitespace is ignored). Throws a `KeyBackupClientError`
 * named `RecoveryKeyError` whose `code` says what is wrong (`Base58`, `Length`, `Prefix`, `Parity`), never the input.
 */
export const decodeRecoveryKey = (recoveryKey: string): Uint8Array =>
  Either.getOrThrowWith(RecoveryKey.decodeRecoveryKey(recoveryKey), (error) => {
    const messages = {
      Base58: "The recovery key contains characters that are not base58",
      Length: "The recovery key has the wrong length",
      Prefix: "This is not a recovery key (wrong prefix)",
      Parity: "The recovery key has a typo (parity check failed)",
    } as const
    return new KeyBackupClientError("RecoveryKeyError", error.reason, messages[error.reason])
  })

/** The recovery key of a 32-byte key, in groups of four characters (throws a RangeError for another length). */
export const encodeRecoveryKey = (key: Uint8Array): string => RecoveryKey.encodeRecoveryKey(key)
