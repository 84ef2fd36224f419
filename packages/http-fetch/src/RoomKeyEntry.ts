/**
 * What both `room_keys` body parsers share: the skeleton above the sessions of each body, and one session's JSON value
 * as an entry (decoded, or a `MalformedEntry` that names the session and summarizes the fault, never its value).
 */
import { HomeserverApi, Ids, KeyBackupData } from "@matrix-backup/core"
import { ParseErrorSummary } from "@matrix-backup/core/adapter"
import { Either, Schema } from "effect"
import type { Shape } from "./JsonShape.js"

/** The skeleton of the whole backup's body (`{rooms: {<room>: {sessions}}}`) and of one room's (`{sessions}`). */
export const SHAPES: Readonly<Record<"All" | "Room", Shape>> = { All: ["rooms", undefined, "sessions"], Room: ["sessions"] }

const decodeEntry = Schema.decodeUnknownEither(KeyBackupData.KeyBackupData)

/** The entry of session `sessionKey` of room `roomKey`, its value decoded. */
export const entryOf = (roomKey: string, sessionKey: string, value: unknown): HomeserverApi.RoomKeyEntry => {
  const roomId = Ids.RoomIdKey.make(roomKey)
  const sessionId = Ids.SessionIdKey.make(sessionKey)
  const data = Either.mapLeft(
    decodeEntry(value),
    (error) => new HomeserverApi.MalformedEntry({ roomId, sessionId, summary: ParseErrorSummary.summarizeParseError(error) }),
  )
  return { roomId, sessionId, data }
}
