/**
 * Finds where one JSON value ends in text that arrives in pieces, tracking only string, escape and bracket depth.
 * The value's text is kept whole for the native `JSON.parse`, which does the real validation: a scanner that cut
 * invalid input in the wrong place only hands `JSON.parse` a slice it rejects.
 */

const QUOTE = 0x22
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c

/** JSON's four whitespace characters. */
export const isJsonWhitespace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09

/** A scalar (number, literal) ends at the first delimiter after it. */
const endsScalar = (code: number): boolean =>
  code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isJsonWhitespace(code)

/** Scans one value, started by `begin` and fed chunk by chunk with `scan`; `finish` gives its text. */
export class JsonValueScanner {
  private pieces: Array<string> = []
  private depth = 0
  private inString = false
  private escaped = false
  private scalar = false
  // The next backslash of the current chunk, found once per chunk rather than once per string.
  private backslashChunk = -1
  private backslash = -1

  /** Starts a value whose first character is `text[at]`; returns where scanning continues. */
  begin(text: string, at: number): number {
    const code = text.charCodeAt(at)
    this.pieces = []
    this.depth = code === OPEN_BRACE || code === OPEN_BRACKET ? 1 : 0
    this.inString = code === QUOTE
    this.escaped = false
    this.scalar = this.depth === 0 && !this.inString
    return this.scalar ? at : at + 1
  }

  /** Scans chunk number `chunk` from `from`; returns the index just past the value, or -1 if the chunk ran out. */
  scan(text: string, from: number, chunk: number): number {
    if (this.scalar) {
      for (let at = from; at < text.length; at++) if (endsScalar(text.charCodeAt(at))) return at
      return -1
    }
    let at = from
    while (at < text.length) {
      if (this.escaped) {
        this.escaped = false
        at += 1
      } else if (this.inString) {
        const quote = text.indexOf('"', at)
        const backslash = this.nextBackslash(text, at, chunk)
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          this.escaped = true
          at = backslash + 1
        } else if (quote === -1) {
          return -1
        } else {
          this.inString = false
          at = quote + 1
          if (this.depth === 0) return at
        }
      } else {
        const code = text.charCodeAt(at)
        at += 1
        if (code === QUOTE) this.inString = true
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth += 1
        else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --this.depth === 0) return at
      }
    }
    return -1
  }

  /** Keeps the scanned rest of a chunk that ended inside the value. */
  carry(piece: string): void {
    this.pieces.push(piece)
  }

  /** The value's whole text, given the part of the last chunk that belongs to it. */
  finish(last: string): string {
    const text = this.pieces.length === 0 ? last : this.pieces.join("") + last
    this.pieces = []
    return text
  }

  private nextBackslash(text: string, from: number, chunk: number): number {
    if (this.backslashChunk !== chunk || (this.backslash !== -1 && this.backslash < from)) {
      this.backslashChunk = chunk
      this.backslash = text.indexOf("\\", from)
    }
    return this.backslash
  }
}
