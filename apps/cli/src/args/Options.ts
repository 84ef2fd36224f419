/**
 * The options a command declares: each knows its flag, how it reads in help, its environment fallback, and how
 * its raw text becomes a typed value. Parsing itself is Node's `util.parseArgs` (see ParseArgs.ts).
 */
import { Either, Redacted } from "effect"

/** What `util.parseArgs` hands back for one option. */
export type Raw = string | boolean | ReadonlyArray<string | boolean> | undefined

/** How an option shows in help and what it takes on the command line. */
export interface OptionHelp {
  readonly description: string
  /** The value's name in help (`FILE`); absent for a switch. */
  readonly placeholder?: string
  /** Shown as "default: …". */
  readonly defaultText?: string
  /** Environment variable read when the flag is absent. */
  readonly env?: string
  readonly required?: boolean
}

/** One declared option: `decode` turns the raw value (flag, else environment) into `A`, or a plain-words problem. */
export interface Opt<A> {
  readonly help: OptionHelp
  readonly type: "string" | "boolean"
  readonly multiple: boolean
  readonly decode: (raw: Raw, flag: string) => Either.Either<A, string>
}

/** The typed values of a command's options. */
export type Values<O extends Record<string, Opt<unknown>>> = { readonly [K in keyof O]: O[K] extends Opt<infer A> ? A : never }

const text = (raw: Raw): string | undefined => (typeof raw === "string" ? raw : undefined)

/** `--name`, a switch: true when present. */
export const flag = (description: string): Opt<boolean> => ({
  help: { description },
  type: "boolean",
  multiple: false,
  decode: (raw) => Either.right(raw === true),
})

/** `--name VALUE`, optional. */
export const optionalText = (placeholder: string, description: string, env?: string): Opt<string | undefined> => ({
  help: { description, placeholder, ...(env === undefined ? {} : { env }) },
  type: "string",
  multiple: false,
  decode: (raw) => Either.right(text(raw)),
})

/** `--name VALUE`, required (or from `env`). */
export const requiredText = (placeholder: string, description: string, env?: string): Opt<string> => ({
  help: { description, placeholder, required: true, ...(env === undefined ? {} : { env }) },
  type: "string",
  multiple: false,
  decode: (raw, flagName) => {
    const value = text(raw)
    if (value !== undefined && value !== "") return Either.right(value)
    return Either.left(`${flagName} ${placeholder} is required${env === undefined ? "" : ` (or set ${env})`}`)
  },
})

/** `--name VALUE` holding a secret: wrapped so it never prints; absent means "ask or fail later". */
export const secret = (placeholder: string, description: string, env?: string): Opt<Redacted.Redacted<string> | undefined> => ({
  help: { description, placeholder, ...(env === undefined ? {} : { env }) },
  type: "string",
  multiple: false,
  decode: (raw) => {
    const value = text(raw)
    return Either.right(value === undefined || value === "" ? undefined : Redacted.make(value))
  },
})

/** `--name N`, a whole number of at least `min`. */
export const integer = (placeholder: string, description: string, options: { readonly default: number; readonly min: number }): Opt<number> => ({
  help: { description, placeholder, defaultText: String(options.default) },
  type: "string",
  multiple: false,
  decode: (raw, flagName) => {
    const value = text(raw)
    if (value === undefined) return Either.right(options.default)
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
    return Number.isSafeInteger(n) && n >= options.min
      ? Either.right(n)
      : Either.left(`${flagName} takes a whole number of at least ${options.min}, not "${value}"`)
  },
})

const pick = <C extends string>(choices: ReadonlyArray<C>, value: string, flagName: string): Either.Either<C, string> => {
  const found = choices.find((c) => c === value)
  return found === undefined ? Either.left(`${flagName} takes ${choices.join(" or ")}, not "${value}"`) : Either.right(found)
}

/** `--name VALUE`, one of `choices`, `fallback` when absent. */
export const choice = <const C extends string>(description: string, choices: ReadonlyArray<C>, fallback: C): Opt<C> => ({
  help: { description, placeholder: choices.join("|"), defaultText: fallback },
  type: "string",
  multiple: false,
  decode: (raw, flagName) => {
    const value = text(raw)
    return value === undefined ? Either.right(fallback) : pick(choices, value, flagName)
  },
})

/** `--name VALUE`, one of `choices`, or absent. */
export const optionalChoice = <const C extends string>(description: string, choices: ReadonlyArray<C>): Opt<C | undefined> => ({
  help: { description, placeholder: choices.join("|") },
  type: "string",
  multiple: false,
  decode: (raw, flagName) => {
    const value = text(raw)
    return value === undefined ? Either.right(undefined) : pick(choices, value, flagName)
  },
})

/** `--name VALUE`, repeatable. */
export const list = (placeholder: string, description: string): Opt<ReadonlyArray<string>> => ({
  help: { description: `${description} (repeatable)`, placeholder },
  type: "string",
  multiple: true,
  decode: (raw) => Either.right(Array.isArray(raw) ? raw.filter((v): v is string => typeof v === "string") : []),
})

/** `accessToken` → `--access-token`. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
