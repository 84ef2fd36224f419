/**
 * A push parser for `GET /room_keys/keys[/{roomId}]` bodies that cuts the body at session boundaries and hands each
 * session's text to the native `JSON.parse`. Only the skeleton above the sessions is read here, with the same shape
 * checks as the token-level parser; memory holds one session at a time, not the backup.
 */
import type { HomeserverApi } from "@matrix-backup/core"
import type { Shape } from "./JsonShape.js"
import { isJsonWhitespace, JsonValueScanner } from "./JsonValueScanner.js"
import { entryOf, SHAPES } from "./RoomKeyEntry.js"
import type { Parsed, Scope } from "./RoomKeyStream.js"

type Expect = "KeyOrClose" | "Key" | "Colon" | "Value" | "CommaOrClose"
type Capture = "Key" | "Skip" | "Session"

interface Frame {
  readonly level: number
  expect: Expect
  key: string | undefined
  sawRequired: boolean
}

const parseJson = (text: string): { readonly value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) }
  } catch {
    return undefined
  }
}

/** `write` returns the entries completed by a chunk; `end` checks the document ended. */
export class RoomKeySplitter {
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true })
  // One rule per skeleton level (JsonShape's `Shape`); the level past the rules holds the sessions.
  private readonly shape: Shape
  private readonly scanner = new JsonValueScanner()
  private readonly frames: Array<Frame> = []
  private phase: "Start" | "Body" | "Done" = "Start"
  private capture: Capture | undefined
  private chunk = 0
  private pending: Array<HomeserverApi.RoomKeyEntry> = []
  private failure: string | undefined

  constructor(private readonly scope: Scope) {
    this.shape = SHAPES[scope._tag]
  }

  /** Feeds bytes; returns the entries completed so far and the first malformation, if any (no values). */
  write(bytes: Uint8Array): Parsed {
    if (this.failure === undefined) this.feed(this.decoder.decode(bytes, { stream: true }))
    return this.drain()
  }

  /** Marks the end of the body; fails if the document is incomplete. */
  end(): Parsed {
    if (this.failure === undefined) this.feed(this.decoder.decode())
    if (this.failure === undefined && this.phase !== "Done") this.failure = "truncated JSON"
    return this.drain()
  }

  private drain(): Parsed {
    const entries = this.pending
    this.pending = []
    return { entries, failure: this.failure }
  }

  private feed(text: string): void {
    this.chunk += 1
    let at = 0
    if (this.capture !== undefined) at = this.continueCapture(text, 0)
    while (at < text.length && this.failure === undefined) {
      const code = text.charCodeAt(at)
      if (isJsonWhitespace(code)) at += 1
      else at = this.structural(text, at, code)
    }
  }

  /** Reads one structural character of the skeleton (or starts a value); returns where to go on. */
  private structural(text: string, at: number, code: number): number {
    const top = this.frames[this.frames.length - 1]
    if (top === undefined) {
      if (this.phase === "Done") return this.fail("content after the end of the document")
      if (code !== 0x7b) return this.fail("the body is not a JSON object")
      this.phase = "Body"
      this.frames.push({ level: 0, expect: "KeyOrClose", key: undefined, sawRequired: false })
      return at + 1
    }
    const char = text[at]
    switch (top.expect) {
      case "KeyOrClose":
        if (char === "}") return this.close(at)
        return char === '"' ? this.startCapture("Key", text, at) : this.fail("invalid JSON")
      case "Key":
        return char === '"' ? this.startCapture("Key", text, at) : this.fail("invalid JSON")
      case "Colon":
        top.expect = "Value"
        return char === ":" ? at + 1 : this.fail("invalid JSON")
      case "Value":
        return this.value(top, text, at)
      case "CommaOrClose":
        top.expect = "Key"
        if (char === ",") return at + 1
        return char === "}" ? this.close(at) : this.fail("invalid JSON")
    }
  }

  private value(top: Frame, text: string, at: number): number {
    if (top.level === this.shape.length) return this.startCapture("Session", text, at)
    const rule = this.shape[top.level]
    if (rule !== undefined && top.key !== rule) return this.startCapture("Skip", text, at)
    top.expect = "CommaOrClose"
    if (rule !== undefined) top.sawRequired = true
    if (text[at] !== "{") return this.fail(`"${rule ?? (top.level === 1 ? "<room>" : "<key>")}" is not an object`)
    this.frames.push({ level: top.level + 1, expect: "KeyOrClose", key: undefined, sawRequired: false })
    return at + 1
  }

  private close(at: number): number {
    const frame = this.frames.pop()
    const rule = frame === undefined ? undefined : this.shape[frame.level]
    if (frame !== undefined && rule !== undefined && !frame.sawRequired) return this.fail(`missing "${rule}"`)
    if (this.frames.length === 0) this.phase = "Done"
    return at + 1
  }

  private startCapture(capture: Capture, text: string, at: number): number {
    this.capture = capture
    return this.continueCapture(text, this.scanner.begin(text, at), at)
  }

  /** Scans the captured value on from `from`; `start` is where its text begins in this chunk. */
  private continueCapture(text: string, from: number, start = 0): number {
    const end = this.scanner.scan(text, from, this.chunk)
    if (end === -1) {
      this.scanner.carry(start === 0 ? text : text.slice(start))
      return text.length
    }
    const capture = this.capture
    this.capture = undefined
    const parsed = parseJson(this.scanner.finish(text.slice(start, end)))
    const top = this.frames[this.frames.length - 1]
    if (parsed === undefined || top === undefined) return this.fail("invalid JSON")
    if (capture === "Key") {
      if (typeof parsed.value !== "string") return this.fail("invalid JSON")
      top.key = parsed.value
      top.expect = "Colon"
      return end
    }
    top.expect = "CommaOrClose"
    if (capture === "Session") this.session(top, parsed.value)
    return end
  }

  private session(top: Frame, value: unknown): void {
    const roomKey = this.scope._tag === "Room" ? this.scope.roomId : this.frames[1]?.key
    if (top.key === undefined || roomKey === undefined) return
    this.pending.push(entryOf(roomKey, top.key, value))
  }

  private fail(reason: string): number {
    this.failure ??= reason
    return Number.POSITIVE_INFINITY
  }
}
