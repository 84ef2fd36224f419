/**
 * How a RoomKey is written into a store row: ids and first index are columns, the rest is one JSON text.
 * Reading checks the JSON against a schema, so a damaged row is a typed "Corrupt" error, not a crash.
 */
import { Either, Schema } from "effect"
import { RoomKey } from "../schema/RoomKey.js"
import type { EncodedRoomKey, EncodedRow } from "./Encoded.js"
import { StorageError } from "./StorageError.js"

/** The JSON part of a row: the record without the columns. */
const StoredRecord = RoomKey.pipe(Schema.omit("roomId", "sessionId", "firstKnownIndex"))
const decodeStored = Schema.decodeUnknownEither(StoredRecord)

/** Encodes a key for `Encoded.upsertRoomKeys`. */
export const encodeRoomKey = (key: RoomKey): EncodedRoomKey => ({
  roomId: key.roomId,
  sessionId: key.sessionId,
  firstKnownIndex: key.firstKnownIndex,
  data: JSON.stringify({
    algorithm: key.algorithm,
    senderKey: key.senderKey,
    sessionKey: key.sessionKey,
    senderClaimedKeys: key.senderClaimedKeys,
    forwardingCurve25519KeyChain: key.forwardingCurve25519KeyChain,
    sharedHistory: key.sharedHistory,
    imported: key.imported,
    source: key.source,
    extra: key.extra,
  }),
})

const corrupt = (row: EncodedRoomKey) =>
  new StorageError({
    reason: "Corrupt",
    message: `Stored room key ${row.roomId} / ${row.sessionId} is not a valid record`,
  })

/** Decodes a stored row; the error names the row but never shows its contents. */
export const decodeRoomKey = (row: EncodedRoomKey): Either.Either<RoomKey, StorageError> => {
  let json: unknown
  try {
    json = JSON.parse(row.data)
  } catch {
    return Either.left(corrupt(row))
  }
  const index = row.firstKnownIndex
  if (!Number.isSafeInteger(index) || index < 0) return Either.left(corrupt(row))
  return Either.match(decodeStored(json), {
    onLeft: () => Either.left(corrupt(row)),
    onRight: (rest) => Either.right({ ...rest, roomId: row.roomId, sessionId: row.sessionId, firstKnownIndex: index }),
  })
}

/** Decodes a row together with its backup bookkeeping. */
export const decodeRow = (
  row: EncodedRow,
): Either.Either<RoomKey & { readonly backedUpTo: string | null; readonly revision: number }, StorageError> =>
  Either.map(decodeRoomKey(row), (key) => ({ ...key, backedUpTo: row.backedUpTo, revision: row.revision }))
