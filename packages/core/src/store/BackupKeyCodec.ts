/**
 * Bytes of the stored backup decryption key: 4-byte big-endian length of the version, the version in
 * UTF-8, then the key. Binary (not JSON) so the plaintext buffer can be wiped after sealing.
 */
import { Either, Redacted } from "effect"
import { utf8Decode } from "../crypto/Bytes.js"
import { StorageError } from "./StorageError.js"

const damaged = new StorageError({ reason: "Corrupt", message: "Stored backup decryption key is damaged" })

/** Packs a key and its backup version. */
export const encodeBackupKey = (key: Uint8Array, version: string): Uint8Array => {
  const versionBytes = new TextEncoder().encode(version)
  const out = new Uint8Array(4 + versionBytes.length + key.length)
  new DataView(out.buffer).setUint32(0, versionBytes.length)
  out.set(versionBytes, 4)
  out.set(key, 4 + versionBytes.length)
  return out
}

/** Unpacks; the key is copied, so the caller may wipe `bytes`. */
export const decodeBackupKey = (
  bytes: Uint8Array,
): Either.Either<{ readonly key: Redacted.Redacted<Uint8Array>; readonly version: string }, StorageError> => {
  if (bytes.length < 4) return Either.left(damaged)
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
  if (4 + length > bytes.length) return Either.left(damaged)
  return Either.match(utf8Decode(bytes.subarray(4, 4 + length)), {
    onLeft: () => Either.left(damaged),
    onRight: (version) => Either.right({ key: Redacted.make(bytes.slice(4 + length)), version }),
  })
}
