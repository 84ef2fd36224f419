/**
 * Reads one command's arguments with Node's `util.parseArgs` (strict: unknown options, missing values and stray
 * words are errors), fills absent options from the environment, and decodes them into typed values.
 * Options belong to the command they follow; nothing program-wide can take a command's value.
 */
import { Either } from "effect"
import { parseArgs } from "node:util"
import { flagName, type Opt, type Raw, type Values } from "./Options.js"

/** What the command line asked for: its help, or a run with these values. */
export type Parsed<A> = { readonly _tag: "Help" } | { readonly _tag: "Run"; readonly values: A }

type Env = Readonly<Record<string, string | undefined>>

const quoted = (message: string): string => /'([^']+)'/.exec(message)?.[1] ?? ""

/** `util.parseArgs`' own errors, said for this command line. */
const describe = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof Error && "code" in error ? String(error.code) : ""
  const subject = quoted(message).replace(/ <value>$/, "")
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${subject}`
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument "${subject}"`
  if (message.includes("argument missing")) return `${subject} needs a value`
  if (message.includes("ambiguous")) return `${subject} needs a value (write ${subject}=VALUE for a value that starts with "-")`
  if (message.includes("does not take an argument")) return `${subject} does not take a value`
  return "the command line could not be read"
}

/** Parses `argv` (the words after the command name) against the command's options. */
export const parseCommandLine = <O extends Record<string, Opt<unknown>>>(
  options: O,
  argv: ReadonlyArray<string>,
  env: Env,
): Either.Either<Parsed<Values<O>>, string> => {
  if (argv.some((word) => word === "--help" || word === "-h")) return Either.right({ _tag: "Help" })
  const config = Object.fromEntries(
    Object.entries(options).map(([key, opt]) => [flagName(key).slice(2), { type: opt.type, multiple: opt.multiple }] as const),
  )
  let raw: Record<string, Raw>
  try {
    raw = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false }).values
  } catch (error) {
    return Either.left(describe(error))
  }
  const values: Record<string, unknown> = {}
  for (const [key, opt] of Object.entries(options)) {
    const name = flagName(key)
    const given = raw[name.slice(2)]
    const decoded = opt.decode(given === undefined && opt.help.env !== undefined ? env[opt.help.env] : given, name)
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    values[key] = decoded.right
  }
  // Every declared key was decoded by its own option above, so the record has exactly the shape of Values<O>.
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions
  return Either.right({ _tag: "Run", values: values as Values<O> })
}
