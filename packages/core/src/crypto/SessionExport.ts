/**
 * Megolm session export format (`session_key` in backups and key files): 0x01, u32 BE index, 128-byte ratchet,
 * 32-byte Ed25519 public key, 165 bytes (PROTOCOL.md §3.6).
 * https://gitlab.matrix.org/matrix-org/olm/-/blob/master/docs/megolm.md#session-export-format
 */
import { Data, Either } from "effect"
import { decodeBase64, encodeBase64 } from "../schema/Base64.js"

/** The version byte of the export format. */
export const SESSION_EXPORT_VERSION = 0x01
/** Ratchet length R(i): four 32-byte parts. */
export const MEGOLM_RATCHET_LENGTH = 128
/** Total export length in bytes. */
export const SESSION_EXPORT_LENGTH = 1 + 4 + MEGOLM_RATCHET_LENGTH + 32

/** A parsed session export. `signingKey` is the session's Ed25519 key (its unpadded base64 is the session ID). */
export type SessionExport = {
  readonly firstKnownIndex: number
  readonly ratchet: Uint8Array
  readonly signingKey: Uint8Array
}

/** Why a `session_key` is not a session export. */
export class SessionExportError extends Data.TaggedError("SessionExportError")<{
  readonly reason: "BadBase64" | "Version" | "Length"
  readonly actual?: number
}> {}

/** Parses a session export from base64 (padded or not) or raw bytes. The version is checked before the length. */
export const parseSessionExport = (input: string | Uint8Array): Either.Either<SessionExport, SessionExportError> => {
  const bytes = typeof input === "string" ? decodeBase64(input) : input
  if (bytes === undefined) return Either.left(new SessionExportError({ reason: "BadBase64" }))
  if (bytes.length === 0 || bytes[0] !== SESSION_EXPORT_VERSION) {
    return Either.left(new SessionExportError({ reason: "Version", ...(bytes.length > 0 ? { actual: bytes[0] } : {}) }))
  }
  if (bytes.length !== SESSION_EXPORT_LENGTH) return Either.left(new SessionExportError({ reason: "Length", actual: bytes.length }))
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Either.right({
    firstKnownIndex: view.getUint32(1, false),
    ratchet: bytes.slice(5, 5 + MEGOLM_RATCHET_LENGTH),
    signingKey: bytes.slice(5 + MEGOLM_RATCHET_LENGTH),
  })
}

/** Builds an unpadded-base64 session export (used by fixtures to make realistic keys). */
export const makeSessionExport = (index: number, ratchet: Uint8Array, signingKey: Uint8Array): string => {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new RangeError("Megolm index must be a u32")
  if (ratchet.length !== MEGOLM_RATCHET_LENGTH) throw new RangeError(`Megolm ratchet must be 128 bytes, got ${ratchet.length}`)
  if (signingKey.length !== 32) throw new RangeError(`Megolm signing key must be 32 bytes, got ${signingKey.length}`)
  const bytes = new Uint8Array(SESSION_EXPORT_LENGTH)
  bytes[0] = SESSION_EXPORT_VERSION
  new DataView(bytes.buffer).setUint32(1, index, false)
  bytes.set(ratchet, 5)
  bytes.set(signingKey, 5 + MEGOLM_RATCHET_LENGTH)
  const text = encodeBase64(bytes)
  bytes.fill(0)
  return text
}
