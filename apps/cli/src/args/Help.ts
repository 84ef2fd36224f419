/**
 * Help text: a short description, usage, every option with its default and environment variable, and examples,
 * wrapped to the terminal's width (80 columns when not a terminal). Plain text, never colour.
 */
import { flagName, type Opt } from "./Options.js"

/** What help needs to know of a command. */
export interface CommandHelp {
  readonly name: string
  readonly summary: string
  readonly description: string
  readonly options: Record<string, Opt<unknown>>
  readonly examples: ReadonlyArray<Example>
}

/** A command line and what it does. */
export interface Example {
  readonly command: string
  readonly says: string
}

/** A word longer than a line, cut into pieces that fit. */
const pieces = (word: string, width: number): Array<string> =>
  word.length <= width ? [word] : Array.from({ length: Math.ceil(word.length / width) }, (_, i) => word.slice(i * width, (i + 1) * width))

/** Words of `text` in lines of at most `width` columns. */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).flatMap((w) => (w === "" ? [] : pieces(w, width)))) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(line)
  return lines
}

/** Columns to wrap at: the terminal's, kept between 40 and 100. */
export const helpWidth = (columns: number | undefined): number => Math.max(40, Math.min(columns ?? 80, 100))

/** Two columns: `left` then the wrapped `right`; on a narrow screen `right` goes below `left`. */
const twoColumns = (rows: ReadonlyArray<readonly [string, string]>, width: number): Array<string> => {
  const left = Math.min(Math.max(...rows.map(([l]) => l.length)) + 4, 30)
  const out: Array<string> = []
  for (const [l, r] of rows) {
    const narrow = width - left < 30 || l.length + 4 > left
    const body = wrap(r, narrow ? width - 6 : width - left)
    if (narrow) out.push(`  ${l}`, ...body.map((b) => `      ${b}`))
    else out.push(...body.map((b, i) => `${(i === 0 ? `  ${l}` : "").padEnd(left)}${b}`))
  }
  return out
}

const optionRow = (key: string, opt: Opt<unknown>): readonly [string, string] => {
  const { help } = opt
  const left = `${flagName(key)}${help.placeholder === undefined ? "" : ` ${help.placeholder}`}`
  const notes = [
    help.required === true ? "required" : undefined,
    help.defaultText === undefined ? undefined : `default: ${help.defaultText}`,
    help.env === undefined ? undefined : `or set ${help.env}`,
  ].filter((n) => n !== undefined)
  return [left, notes.length === 0 ? help.description : `${help.description} (${notes.join("; ")})`]
}

/** A command line, continued with backslashes where it does not fit, so it can still be pasted into a shell. */
const commandLines = (command: string, width: number): Array<string> => {
  const parts = wrap(command, width - 8)
  return parts.map((part, i) => `${i === 0 ? "  " : "      "}${part}${i < parts.length - 1 ? " \\" : ""}`)
}

/** `matrix-backup <command> --help`. */
export const commandHelp = (command: CommandHelp, width: number): string => {
  const required = Object.entries(command.options)
    .filter(([, opt]) => opt.help.required === true)
    .map(([key, opt]) => `${flagName(key)} ${opt.help.placeholder ?? ""}`.trimEnd())
  const lines = [
    ...wrap(`matrix-backup ${command.name}: ${command.summary}`, width),
    "",
    `Usage: matrix-backup ${[command.name, ...required].join(" ")} [options]`,
    "",
    ...wrap(command.description, width),
    "",
    "Options:",
    ...twoColumns([...Object.entries(command.options).map(([k, o]) => optionRow(k, o)), ["-h, --help", "Show this help"]], width),
  ]
  if (command.examples.length > 0) {
    lines.push("", "Examples:")
    for (const example of command.examples) lines.push(...commandLines(example.command, width), ...wrap(example.says, width - 6).map((l) => `      ${l}`))
  }
  return `${lines.join("\n")}\n`
}

/** `matrix-backup --help`: the commands and where to read more. */
export const rootHelp = (commands: ReadonlyArray<CommandHelp>, width: number): string =>
  [
    ...wrap("matrix-backup: Matrix server-side key backup from the terminal", width),
    "",
    "Usage: matrix-backup <command> [options]",
    "",
    "Commands:",
    ...twoColumns(commands.map((c) => [c.name, c.summary] as const), width),
    "",
    ...wrap(
      "Every command but demo connects with --homeserver URL and --access-token TOKEN, or MATRIX_HOMESERVER and " +
        "MATRIX_ACCESS_TOKEN. Run `matrix-backup <command> --help` for its options and examples; " +
        "`matrix-backup --version` prints the version.",
      width,
    ),
    "",
  ].join("\n")
