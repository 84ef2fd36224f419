/**
 * Incremental parsing of `GET /room_keys/keys[/{roomId}]` bodies into per-session entries.
 * Only complete session objects are emitted; memory holds one session at a time, not the backup.
 */
import { TokenParser, Tokenizer } from "@streamparser/json"
import type { ParsedElementInfo } from "@streamparser/json"
import { Ids, KeyBackupData } from "@matrix-backup/core"
import { HomeserverApi, HomeserverError } from "@matrix-backup/core"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import { ShapeChecker } from "./JsonShape.js"
import type { Shape } from "./JsonShape.js"

const decodeEntry = Schema.decodeUnknownEither(KeyBackupData.KeyBackupData)

/** Which body is being parsed: the whole backup, or one room's `{sessions}`. */
export type Scope = { readonly _tag: "All" } | { readonly _tag: "Room"; readonly roomId: Ids.RoomId }

const SHAPES: Record<Scope["_tag"], Shape> = { All: ["rooms", undefined, "sessions"], Room: ["sessions"] }
const PATHS: Record<Scope["_tag"], string> = { All: "$.rooms.*.sessions.*", Room: "$.sessions.*" }

/** A push parser: `write` returns the entries completed by a chunk; `end` checks the document ended. */
export class RoomKeyParser {
  private readonly tokenizer = new Tokenizer()
  private readonly parser: TokenParser
  private readonly checker: ShapeChecker
  private pending: Array<HomeserverApi.RoomKeyEntry> = []
  private failure: string | undefined

  constructor(private readonly scope: Scope) {
    this.parser = new TokenParser({ paths: [PATHS[scope._tag]], keepStack: false })
    this.checker = new ShapeChecker(SHAPES[scope._tag])
    this.tokenizer.onToken = (token) => {
      if (this.failure !== undefined) return
      this.failure = this.checker.push(token)
      if (this.failure === undefined) this.parser.write(token)
    }
    this.parser.onValue = (info) => this.onValue(info)
    // Parser messages quote the input, which holds ciphertexts: keep a fixed text instead.
    this.tokenizer.onError = () => this.fail("invalid JSON")
    this.parser.onError = () => this.fail("invalid JSON")
    this.tokenizer.onEnd = () => undefined
  }

  /** Feeds bytes; returns the complete entries or the first malformation (no values). */
  write(bytes: Uint8Array): Either.Either<Array<HomeserverApi.RoomKeyEntry>, string> {
    if (this.failure === undefined) this.tokenizer.write(bytes)
    return this.drain()
  }

  /** Marks the end of the body; fails if the document is incomplete. */
  end(): Either.Either<Array<HomeserverApi.RoomKeyEntry>, string> {
    if (this.failure === undefined) {
      if (this.tokenizer.isEnded) return this.drain()
      this.tokenizer.end()
      if (this.failure === undefined && !this.parser.isEnded) this.fail("truncated JSON")
    }
    return this.drain()
  }

  private drain(): Either.Either<Array<HomeserverApi.RoomKeyEntry>, string> {
    if (this.failure !== undefined) return Either.left(this.failure)
    const out = this.pending
    this.pending = []
    return Either.right(out)
  }

  private fail(reason: string): void {
    this.failure ??= reason
  }

  private onValue({ value, key, stack }: ParsedElementInfo): void {
    const roomKey = this.scope._tag === "Room" ? this.scope.roomId : stack[2]?.key
    if (typeof key !== "string" || typeof roomKey !== "string") return this.fail("sessions is not an object")
    const roomId = Ids.RoomIdKey.make(roomKey)
    const sessionId = Ids.SessionIdKey.make(key)
    const data = Either.mapLeft(
      decodeEntry(value),
      (error) =>
        new HomeserverApi.MalformedEntry({ roomId, sessionId, summary: HomeserverError.summarizeParseError(error) }),
    )
    this.pending.push({ roomId, sessionId, data })
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
    const orFail = (result: Either.Either<Array<HomeserverApi.RoomKeyEntry>, string>) =>
      Either.match(result, {
        onLeft: (summary) => Effect.fail(new HomeserverError.MalformedResponse({ endpoint, summary })),
        onRight: (entries) => Effect.succeed(Chunk.unsafeFromArray(entries)),
      })
    const body = bytes.pipe(Stream.mapEffect((chunk) => orFail(parser.write(chunk))), Stream.flattenChunks)
    const tail = Stream.fromEffect(Effect.suspend(() => orFail(parser.end()))).pipe(Stream.flattenChunks)
    return Stream.concat(body, tail)
  })
