/**
 * Checks the container skeleton of a JSON document token by token, without building it: the
 * streaming download must notice `{"rooms": []}` or a room without `sessions`, which a path-filtered
 * parser would silently read as "no keys".
 */
import { TokenType } from "@streamparser/json"
import type { ParsedTokenInfo } from "@streamparser/json"

/**
 * One rule per nesting level, starting at the root object's keys: a string names a required key
 * whose value must be an object; `undefined` means every key's value must be an object.
 * Deeper levels are not checked.
 */
export type Shape = ReadonlyArray<string | undefined>

interface Frame {
  readonly isObject: boolean
  readonly level: number
  readonly checked: boolean
  expectKey: boolean
  key: string | undefined
  sawRequired: boolean
}

const OPENERS = new Set([TokenType.LEFT_BRACE, TokenType.LEFT_BRACKET])
const CLOSERS = new Set([TokenType.RIGHT_BRACE, TokenType.RIGHT_BRACKET])

/** Feeds tokens in order; returns a description of the first violation, or undefined. */
export class ShapeChecker {
  private readonly stack: Array<Frame> = []
  private started = false

  constructor(private readonly shape: Shape) {}

  /** Checks one token; a returned string is the violation (key names only, never values). */
  push(token: ParsedTokenInfo): string | undefined {
    const top = this.stack[this.stack.length - 1]
    if (top === undefined) return this.root(token)
    if (top.isObject && top.expectKey && token.token === TokenType.STRING) {
      top.key = String(token.value)
      top.expectKey = false
      return undefined
    }
    if (token.token === TokenType.COLON) return undefined
    if (token.token === TokenType.COMMA) {
      top.expectKey = top.isObject
      return undefined
    }
    if (CLOSERS.has(token.token)) return this.close(top)
    return this.value(top, token)
  }

  private root(token: ParsedTokenInfo): string | undefined {
    if (this.started) return "content after the end of the document"
    this.started = true
    if (token.token !== TokenType.LEFT_BRACE) return "the body is not a JSON object"
    this.stack.push(this.frame(true, 0, true))
    return undefined
  }

  private value(top: Frame, token: ParsedTokenInfo): string | undefined {
    const rule = top.checked && top.level < this.shape.length ? this.shape[top.level] : null
    const governed = rule === undefined || (rule !== null && top.key === rule)
    if (governed) {
      if (rule !== undefined) top.sawRequired = true
      if (token.token !== TokenType.LEFT_BRACE) return `"${this.keyName(top, rule)}" is not an object`
    }
    if (OPENERS.has(token.token)) {
      this.stack.push(this.frame(token.token === TokenType.LEFT_BRACE, top.level + 1, governed))
    }
    return undefined
  }

  private close(top: Frame): string | undefined {
    this.stack.pop()
    const rule = top.checked && top.level < this.shape.length ? this.shape[top.level] : undefined
    return rule !== undefined && !top.sawRequired ? `missing "${rule}"` : undefined
  }

  private keyName(top: Frame, rule: string | undefined): string {
    return rule ?? (top.level === 1 ? "<room>" : "<key>")
  }

  private frame(isObject: boolean, level: number, checked: boolean): Frame {
    return { isObject, level, checked, expectKey: isObject, key: undefined, sawRequired: false }
  }
}
