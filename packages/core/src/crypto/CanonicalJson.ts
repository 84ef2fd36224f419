/**
 * Matrix canonical JSON: keys sorted by code point at every depth, no whitespace, integers only, raw non-ASCII
 * (PROTOCOL.md §7.1). https://spec.matrix.org/v1.16/appendices/#canonical-json
 */
import { Data, Either } from "effect"

/** Why a value has no canonical JSON form. `path` names where (keys only, never values). */
export class CanonicalJsonError extends Data.TaggedError("CanonicalJsonError")<{
  readonly reason: "NotInteger" | "OutOfRange" | "LoneSurrogate" | "UnsupportedValue" | "Cycle"
  readonly path: string
}> {}

const LONE_SURROGATE = /\p{Cs}/u

/** Canonical JSON of a JSON-like value. Object properties whose value is `undefined` are omitted, as in JSON.stringify. */
export const canonicalJson = (value: unknown): Either.Either<string, CanonicalJsonError> => {
  const ancestors = new Set<object>()
  const write = (node: unknown, path: string): string => {
    switch (typeof node) {
      case "string":
        return writeString(node, path)
      case "number":
        return writeNumber(node, path)
      case "boolean":
        return node ? "true" : "false"
      case "object":
        if (node === null) return "null"
        if (ancestors.has(node)) throw new CanonicalJsonError({ reason: "Cycle", path })
        ancestors.add(node)
        try {
          return Array.isArray(node) ? writeArray(node, path) : writeObject(node, path)
        } finally {
          ancestors.delete(node)
        }
      default:
        throw new CanonicalJsonError({ reason: "UnsupportedValue", path })
    }
  }
  const writeArray = (items: ReadonlyArray<unknown>, path: string): string => {
    const parts: Array<string> = []
    for (let i = 0; i < items.length; i++) {
      if (items[i] === undefined) throw new CanonicalJsonError({ reason: "UnsupportedValue", path: `${path}[${i}]` })
      parts.push(write(items[i], `${path}[${i}]`))
    }
    return `[${parts.join(",")}]`
  }
  const writeObject = (node: object, path: string): string => {
    const proto: unknown = Object.getPrototypeOf(node)
    if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError({ reason: "UnsupportedValue", path })
    const entries = Object.entries(node).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => compareCodePoints(a, b))
    const parts = entries.map(([k, v]) => `${writeString(k, path)}:${write(v, `${path}.${k}`)}`)
    return `{${parts.join(",")}}`
  }
  try {
    return Either.right(write(value, "$"))
  } catch (error) {
    if (error instanceof CanonicalJsonError) return Either.left(error)
    throw error
  }
}

const writeString = (text: string, path: string): string => {
  // A lone surrogate has no UTF-8 encoding, so the signed bytes would be ambiguous.
  if (LONE_SURROGATE.test(text)) throw new CanonicalJsonError({ reason: "LoneSurrogate", path })
  // For well-formed strings JSON.stringify escapes exactly `"`, `\` and U+0000–U+001F
  // (short forms where they exist, else \u00xx lowercase) and leaves everything else raw.
  return JSON.stringify(text)
}

const writeNumber = (n: number, path: string): string => {
  if (!Number.isInteger(n)) throw new CanonicalJsonError({ reason: "NotInteger", path })
  if (!Number.isSafeInteger(n)) throw new CanonicalJsonError({ reason: "OutOfRange", path })
  // -0 is the integer zero; its canonical form is "0" (String(-0) === "0").
  return String(n)
}

/**
 * Orders strings by Unicode code point. UTF-16 code-unit order differs from it only when a surrogate
 * meets a unit in U+E000–U+FFFF, so those units are remapped before comparing.
 */
export const compareCodePoints = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return fixup(x) - fixup(y)
  }
  return a.length - b.length
}

const fixup = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit)
