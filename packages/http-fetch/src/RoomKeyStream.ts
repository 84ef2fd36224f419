/**
 * Incremental parsing of `GET /room_keys/keys[/{roomId}]` bodies into per-session entries.
 * Only complete session objects are emitted; memory holds one session at a time, not the backup.
 */
import { TokenParser, Tokenizer } from "@streamparser/json"
import type { ParsedElementInfo } from "@streamparser/json"
import type { HomeserverApi, Ids } from "@matrix-backup/core"
import { HomeserverError } from "@matrix-backup/core"
import { Chunk, Stream } from "effect"
import { ShapeChecker } from "./JsonShape.js"
import { entryOf, SHAPES } from "./RoomKeyEntry.js"
import { RoomKeySplitter } from "./RoomKeySplitter.js"

/** Which body is being parsed: the whole backup, or one room's `{sessions}`. */
export type Scope = { readonly _tag: "All" } | { readonly _tag: "Room"; readonly roomId: Ids.RoomId }

const PATHS: Record<Scope["_tag"], string> = { All: "$.rooms.*.sessions.*", Room: "$.sessions.*" }

/** Entries completed by a chunk, then the malformation that stopped parsing, if any. */
export interface Parsed {
  readonly entries: Array<HomeserverApi.RoomKeyEntry>
  readonly failure: string | undefined
}

/** A push parser over a body: `write` returns the entries completed by a chunk; `end` checks the document ended. */
export interface PushParser {
  /** Feeds the next bytes of the body; returns the entries they completed. */
  readonly write: (bytes: Uint8Array) => Parsed
  /** Ends the body; returns the last entries, or the failure of a body that stopped early. */
  readonly end: () => Parsed
}

/** A push parser on @streamparser/json's tokenizer, token by token. */
export class RoomKeyParser implements PushParser {
  private readonly tokenizer = new Tokenizer()
  private readonly parser: TokenParser
  private readonly checker: ShapeChecker
  private pending: Array<HomeserverApi.RoomKeyEntry> = []
  private failure: string | undefined
  private ending = false

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
    this.tokenizer.onError = () => this.fail(this.ending ? "truncated JSON" : "invalid JSON")
    this.parser.onError = () => this.fail(this.ending ? "truncated JSON" : "invalid JSON")
    this.tokenizer.onEnd = () => undefined
  }

  /** Feeds bytes; returns the entries completed so far and the first malformation, if any (no values). */
  write(bytes: Uint8Array): Parsed {
    if (this.failure === undefined) this.tokenizer.write(bytes)
    return this.drain()
  }

  /** Marks the end of the body; fails if the document is incomplete. */
  end(): Parsed {
    if (this.failure === undefined) {
      if (this.tokenizer.isEnded) return this.drain()
      this.ending = true
      this.tokenizer.end()
      if (this.failure === undefined && !this.parser.isEnded) this.fail("truncated JSON")
    }
    return this.drain()
  }

  private drain(): Parsed {
    const entries = this.pending
    this.pending = []
    return { entries, failure: this.failure }
  }

  private fail(reason: string): void {
    this.failure ??= reason
  }

  private onValue({ value, key, stack }: ParsedElementInfo): void {
    const roomKey = this.scope._tag === "Room" ? this.scope.roomId : stack[2]?.key
    if (typeof key !== "string" || typeof roomKey !== "string") return this.fail("sessions is not an object")
    this.pending.push(entryOf(roomKey, key, value))
  }
}

/**
 * Turns a body byte stream into entries (with `RoomKeySplitter`; `RoomKeyParser` stays as the token-level reference
 * its tests and benchmark compare against). A byte-stream failure or a malformed document fails the stream, after
 * only the complete, valid-shaped entries before it were emitted.
 */
export const parseRoomKeys = <E>(
  bytes: Stream.Stream<Uint8Array, E>,
  scope: Scope,
  endpoint: string,
): Stream.Stream<HomeserverApi.RoomKeyEntry, E | HomeserverError.MalformedResponse> =>
  Stream.suspend(() => {
    const parser: PushParser = new RoomKeySplitter(scope)
    const emit = ({ entries, failure }: Parsed) => {
      const complete = Stream.fromChunk(Chunk.unsafeFromArray(entries))
      if (failure === undefined) return complete
      return Stream.concat(complete, Stream.fail(new HomeserverError.MalformedResponse({ endpoint, summary: failure })))
    }
    const body = Stream.flatMap(bytes, (chunk) => Stream.suspend(() => emit(parser.write(chunk))))
    return Stream.concat(body, Stream.suspend(() => emit(parser.end())))
  })
