/**
 * matrix-js-sdk's public shapes for the Promise facade (`KeyBackupInfo` as wire JSON, `KeyBackupCheck`,
 * `BackupTrustInfo`) and the decoding of what callers hand in (backup infos, exported room keys).
 */
import { Effect, Either, Schema } from "effect"
import type { KeyBackupCheck as EngineCheck } from "../backup/KeyBackupEngine.js"
import { parseSessionExport } from "../crypto/SessionExport.js"
import { KeyBackupInfo as KeyBackupInfoSchema } from "../schema/BackupInfo.js"
import { ExportedRoomKey, fromExported, type RoomKey, type RoomKeySource } from "../schema/RoomKey.js"
import { summarizeParseError } from "../schema/ParseErrorSummary.js"
import type { BackupTrustResult } from "../trust/TrustVerdict.js"
import { KeyBackupClientError } from "./ClientError.js"

/** matrix-js-sdk's `KeyBackupInfo`: the `/room_keys/version` JSON. */
export interface KeyBackupInfo {
  readonly algorithm: string
  readonly auth_data: Record<string, unknown>
  readonly count?: number
  readonly etag?: string
  readonly version?: string
}

/** matrix-js-sdk's `BackupTrustInfo`, plus the per-signer detail. */
export type BackupTrustInfo = BackupTrustResult

/** matrix-js-sdk's `KeyBackupCheck`. */
export interface KeyBackupCheck {
  readonly backupInfo: KeyBackupInfo
  readonly trustInfo: { readonly trusted: boolean; readonly matchesDecryptionKey: boolean }
}

const encodeInfo = Schema.encodeSync(KeyBackupInfoSchema)
const decodeInfo = Schema.decodeUnknownEither(KeyBackupInfoSchema)

/** The wire JSON of a decoded info (auth_data exactly as served). */
export const toJsInfo = (info: KeyBackupInfoSchema): KeyBackupInfo => {
  const { count, etag, version, ...rest } = encodeInfo(info)
  return {
    algorithm: rest.algorithm,
    auth_data: { ...rest.auth_data },
    ...(count === undefined ? {} : { count }),
    ...(etag === undefined ? {} : { etag }),
    ...(version === undefined ? {} : { version }),
  }
}

/** The js-sdk check shape. */
export const toJsCheck = (check: EngineCheck): KeyBackupCheck => ({
  backupInfo: toJsInfo(check.backupInfo),
  trustInfo: { trusted: check.trustInfo.trusted, matchesDecryptionKey: check.trustInfo.matchesDecryptionKey },
})

/** Decodes a caller's `KeyBackupInfo`; a malformed one rejects with `InvalidBackupInfo` naming paths only. */
export const fromJsInfo = (info: unknown): Effect.Effect<KeyBackupInfoSchema, KeyBackupClientError> =>
  Either.match(decodeInfo(info), {
    onLeft: (error) => Effect.fail(new KeyBackupClientError("InvalidBackupInfo", "InvalidBackupInfo", `Not a KeyBackupInfo: ${summarizeParseError(error)}`)),
    onRight: Effect.succeed,
  })

/** Options of `addRoomKeys`: how the keys arrived (sets `forwarded_count` to 1 when imported). */
export interface AddRoomKeysOptions {
  readonly imported?: boolean
  readonly source?: RoomKeySource
}

const decodeExported = Schema.decodeUnknownEither(ExportedRoomKey)

/**
 * Decodes exported room keys (js-sdk's `IMegolmSessionData` / key-file entries). Errors name the entry index and
 * field paths, never values (entries hold session keys).
 */
export const fromExportedKeys = (
  keys: ReadonlyArray<unknown>,
  options: AddRoomKeysOptions = {},
): Effect.Effect<ReadonlyArray<RoomKey>, KeyBackupClientError> =>
  Effect.suspend(() => {
    const out: Array<RoomKey> = []
    const imported = options.imported ?? false
    const source = options.source ?? (imported ? "file" : "direct")
    for (const [index, key] of keys.entries()) {
      const decoded = decodeExported(key)
      if (Either.isLeft(decoded)) {
        const summary = summarizeParseError(decoded.left)
        return Effect.fail(new KeyBackupClientError("InvalidRoomKey", "InvalidRoomKey", `Room key #${index} is malformed: ${summary}`))
      }
      // The session export carries its first index; it must parse, or the backup would hold an unusable key.
      const parsed = parseSessionExport(decoded.right.session_key)
      if (Either.isLeft(parsed)) {
        const reason = parsed.left.reason
        return Effect.fail(new KeyBackupClientError("InvalidRoomKey", "InvalidRoomKey", `Room key #${index}: session_key is not a session export (${reason})`))
      }
      const firstKnownIndex = decoded.right.first_known_index ?? parsed.right.firstKnownIndex
      out.push({ ...fromExported(decoded.right, { imported, source }), firstKnownIndex })
    }
    return Effect.succeed(out)
  })
