/**
 * Incremental parsing of `GET /room_keys/keys[/{roomId}]` bodies into per-session entries.
 * Only complete session objects are emitted; memory holds one session at a time, not the backup.
 */
import { Ids, KeyBackupData } from "@matrix-backup/core"
import { HomeserverApi, HomeserverError } from "@matrix-backup/core"
import { Chunk, Either, Schema, Stream } from "effect"
import { SessionScanner } from "./SessionScanner.js"
import type { FoundSession, Shape } from "./SessionScanner.js"

const decodeEntry = Schema.decodeUnknownEither(KeyBackupData.KeyBackupData)

/** Which body is being parsed: the whole backup, or one room's `{sessions}`. */
export type Scope = { readonly _tag: "All" } | { readonly _tag: "Room"; readonly roomId: Ids.RoomId }

const SHAPES: Record<Scope["_tag"], Shape> = { All: ["rooms", undefined, "sessions"], Room: ["sessions"] }

/** Entries completed by a chunk, then the malformation that stopped parsing, if any. */
export interface Parsed {
  readonly entries: Array<HomeserverApi.RoomKeyEntry>
  readonly failure: string | undefined
}

/** A push parser: `write` returns the entries completed by a chunk; `end` checks the document ended. */
export class RoomKeyParser {
  private readonly scanner: SessionScanner

  constructor(private readonly scope: Scope) {
    this.scanner = new SessionScanner(SHAPES[scope._tag])
  }

  /** Feeds bytes; returns the entries completed so far and the first malformation, if any (no values). */
  write(bytes: Uint8Array): Parsed {
    return this.parsed(this.scanner.write(bytes))
  }

  /** Marks the end of the body; fails if the document is incomplete. */
  end(): Parsed {
    return this.parsed(this.scanner.end())
  }

  private parsed(found: ReadonlyArray<FoundSession>): Parsed {
    return { entries: found.map((session) => this.entry(session)), failure: this.scanner.failure }
  }

  private entry({ path, value }: FoundSession): HomeserverApi.RoomKeyEntry {
    const roomId = Ids.RoomIdKey.make(this.scope._tag === "Room" ? this.scope.roomId : (path[0] ?? ""))
    const sessionId = Ids.SessionIdKey.make(path[path.length - 1] ?? "")
    const data = Either.mapLeft(
      decodeEntry(value),
      (error) => new HomeserverApi.MalformedEntry({ roomId, sessionId, summary: HomeserverError.summarizeParseError(error) }),
    )
    return { roomId, sessionId, data }
  }
}

/**
 * Turns a body byte stream into entries. A byte-stream failure or a malformed document fails the
 * stream, after only the complete, valid-shaped entries before it were emitted.
 */
export const parseRoomKeys = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  scope: Scope,
  endpoint: string,
): Stream.Stream<HomeserverApi.RoomKeyEntry, E | HomeserverError.MalformedResponse> =>
  Stream.suspend(() => {
    const parser = new RoomKeyParser(scope)
    const emit = ({ entries, failure }: Parsed) => {
      const complete = Stream.fromChunk(Chunk.unsafeFromArray(entries))
      if (failure === undefined) return complete
      return Stream.concat(complete, Stream.fail(new HomeserverError.MalformedResponse({ endpoint, summary: failure })))
    }
    const body = Stream.flatMap(bytes, (chunk) => Stream.suspend(() => emit(parser.write(chunk))))
    return Stream.concat(body, Stream.suspend(() => emit(parser.end())))
  })
