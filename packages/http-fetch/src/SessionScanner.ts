/**
 * Finds the session objects of a `/room_keys/keys` body as it arrives, byte by byte, and hands each one to the
 * native `JSON.parse`. Only the skeleton (`{"rooms": {<room>: {"sessions": {<session>: ...}}}}`) is walked here;
 * everything else is located by bracket matching and parsed natively, which is several times faster than a
 * token-by-token parser in JavaScript. The skeleton is checked on the way: the streaming download must notice
 * `{"rooms": []}` or a room without `sessions`, which a path-filtered parser would read as "no keys".
 *
 * Hand-written because no maintained JSON library offers "native parse of each sub-object of a stream"; the
 * token parsers we measured spent most of a restore's main-thread time here.
 */

/**
 * One rule per nesting level, from the root object's keys: a string names a required key whose value must be an
 * object; `undefined` means every key's value must be an object. Values one level below the last rule are the
 * sessions.
 */
export type Shape = ReadonlyArray<string | undefined>

/** A session found: the keys that lead to it (room id first, where the shape has one) and its parsed value. */
export interface FoundSession {
  readonly path: ReadonlyArray<string>
  readonly value: unknown
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d

const INCOMPLETE = -1

const isWhitespace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
const isDelimiter = (b: number | undefined): boolean => b === COMMA || b === RBRACE || b === RBRACKET || isWhitespace(b)

type State = "keyOrEnd" | "key" | "colon" | "value" | "commaOrEnd"

interface Frame {
  readonly level: number
  state: State
  key: string | undefined
  sawRequired: boolean
}

/** Where an unfinished value's bracket scan stopped, so the next chunk does not rescan it from its start. */
interface Resume {
  readonly start: number
  readonly at: number
  readonly depth: number
}

const EMPTY = new Uint8Array(0)

/** A push scanner: `write` returns the sessions a chunk completed; failures are short texts without values. */
export class SessionScanner {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true })
  private readonly stack: Array<Frame> = []
  private buffer: Uint8Array = EMPTY
  private resume: Resume | undefined
  private started = false
  private finished = false
  private found: Array<FoundSession> = []
  failure: string | undefined

  constructor(private readonly shape: Shape) {}

  /** Scans a chunk; returns the sessions it completed. */
  write(bytes: Uint8Array): Array<FoundSession> {
    if (this.failure === undefined) {
      this.append(bytes)
      this.scan()
    }
    return this.drain()
  }

  /** The body ended: returns the last sessions, and fails an unfinished document. */
  end(): Array<FoundSession> {
    if (this.failure === undefined && (!this.finished || this.buffer.length > 0)) this.fail("truncated JSON")
    return this.drain()
  }

  private drain(): Array<FoundSession> {
    const found = this.found
    this.found = []
    return found
  }

  private fail(reason: string): void {
    this.failure ??= reason
  }

  private append(bytes: Uint8Array): void {
    if (this.buffer.length === 0) {
      this.buffer = bytes
      return
    }
    const joined = new Uint8Array(this.buffer.length + bytes.length)
    joined.set(this.buffer)
    joined.set(bytes, this.buffer.length)
    this.buffer = joined
  }

  /** Walks the buffer as far as it is complete; keeps the unfinished tail for the next chunk. */
  private scan(): void {
    const buf = this.buffer
    let i = 0
    while (this.failure === undefined) {
      while (isWhitespace(buf[i])) i++
      if (i >= buf.length) break
      const next = this.step(buf, i)
      if (next === INCOMPLETE) break
      i = next
    }
    if (this.resume !== undefined) this.resume = { ...this.resume, start: this.resume.start - i, at: this.resume.at - i }
    this.buffer = i >= buf.length ? EMPTY : buf.subarray(i)
  }

  /** One skeleton step at `i` (not whitespace); returns where the next one starts, or INCOMPLETE. */
  private step(buf: Uint8Array, i: number): number {
    const b = buf[i]
    if (this.finished) return this.failed("content after the end of the document")
    const top = this.stack[this.stack.length - 1]
    if (top === undefined) {
      if (b !== LBRACE || this.started) return this.failed("the body is not a JSON object")
      this.started = true
      this.stack.push({ level: 0, state: "keyOrEnd", key: undefined, sawRequired: false })
      return i + 1
    }
    switch (top.state) {
      case "keyOrEnd":
      case "key": {
        if (b === RBRACE && top.state === "keyOrEnd") return this.close(top, i)
        if (b !== QUOTE) return this.failed("invalid JSON")
        const end = stringEnd(buf, i)
        if (end === INCOMPLETE) return INCOMPLETE
        const key = this.parse(buf, i, end)
        if (typeof key !== "string") return this.failed("invalid JSON")
        top.key = key
        top.state = "colon"
        return end
      }
      case "colon":
        if (b !== COLON) return this.failed("invalid JSON")
        top.state = "value"
        return i + 1
      case "value":
        return this.value(top, buf, i)
      case "commaOrEnd":
        if (b === COMMA) {
          top.state = "key"
          return i + 1
        }
        if (b === RBRACE) return this.close(top, i)
        return this.failed("invalid JSON")
    }
  }

  private value(top: Frame, buf: Uint8Array, i: number): number {
    const level = top.level
    if (level < this.shape.length) {
      const rule = this.shape[level]
      if (rule === undefined || top.key === rule) {
        if (rule !== undefined) top.sawRequired = true
        if (buf[i] !== LBRACE) return this.failed(`"${rule ?? (level === 1 ? "<room>" : "<key>")}" is not an object`)
        top.state = "commaOrEnd"
        this.stack.push({ level: level + 1, state: "keyOrEnd", key: undefined, sawRequired: false })
        return i + 1
      }
    }
    // A session (at the level below the last rule), or a value off the skeleton: parsed whole, natively.
    const end = this.valueEnd(buf, i)
    if (end === INCOMPLETE) return INCOMPLETE
    const value = this.parse(buf, i, end)
    if (value === INVALID) return this.failed("invalid JSON")
    if (level === this.shape.length) this.found.push({ path: this.path(), value })
    top.state = "commaOrEnd"
    return end
  }

  /** Keys leading to the current session: every frame's key below the root, where the shape maps ids. */
  private path(): Array<string> {
    const keys: Array<string> = []
    for (const frame of this.stack) if (this.shape[frame.level] === undefined || frame.level === this.shape.length) keys.push(frame.key ?? "")
    return keys
  }

  private close(top: Frame, i: number): number {
    this.stack.pop()
    const rule = top.level < this.shape.length ? this.shape[top.level] : undefined
    if (rule !== undefined && !top.sawRequired) return this.failed(`missing "${rule}"`)
    if (this.stack.length === 0) this.finished = true
    return i + 1
  }

  /** End (exclusive) of the JSON value starting at `i`, or INCOMPLETE; structure only, `JSON.parse` validates. */
  private valueEnd(buf: Uint8Array, i: number): number {
    const first = buf[i]
    if (first === QUOTE) return stringEnd(buf, i)
    if (first !== LBRACE && first !== LBRACKET) {
      // The root is an object, so a complete literal is always followed by a delimiter.
      let j = i
      while (j < buf.length && !isDelimiter(buf[j])) j++
      return j === buf.length ? INCOMPLETE : j
    }
    const resumed = this.resume !== undefined && this.resume.start === i ? this.resume : undefined
    let depth = resumed?.depth ?? 0
    let j = resumed?.at ?? i
    this.resume = undefined
    while (j < buf.length) {
      const b = buf[j]
      if (b === QUOTE) {
        const end = stringEnd(buf, j)
        if (end === INCOMPLETE) break
        j = end
        continue
      }
      if (b === LBRACE || b === LBRACKET) depth++
      else if (b === RBRACE || b === RBRACKET) {
        depth--
        if (depth === 0) return j + 1
      }
      j++
    }
    this.resume = { start: i, at: j, depth }
    return INCOMPLETE
  }

  /** `JSON.parse` of `buf[start, end)`, or INVALID. Parser messages quote the input, so none is kept. */
  private parse(buf: Uint8Array, start: number, end: number): unknown {
    try {
      return JSON.parse(this.decoder.decode(buf.subarray(start, end)))
    } catch {
      return INVALID
    }
  }

  private failed(reason: string): number {
    this.fail(reason)
    return INCOMPLETE
  }
}

const INVALID: unique symbol = Symbol("invalid JSON")

/** End (exclusive, after the closing quote) of the string whose opening quote is at `i`, or INCOMPLETE. */
const stringEnd = (buf: Uint8Array, i: number): number => {
  let j = buf.indexOf(QUOTE, i + 1)
  while (j >= 0) {
    let backslashes = 0
    while (buf[j - 1 - backslashes] === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return j + 1
    j = buf.indexOf(QUOTE, j + 1)
  }
  return INCOMPLETE
}
