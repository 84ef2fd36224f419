// Runs the built command on a real pseudo-terminal (util-linux `script`), so it sees a person's terminal: prompts,
// hidden input, confirmations, bars redrawn in place, the terminal's width. `answer` types when a prompt shows.
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bundle", "matrix-backup.js")

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`

/** What the terminal showed (stdout and stderr together, as a person sees them) and the exit code. */
export interface TerminalRun {
  readonly code: number
  readonly screen: string
}

/** A prompt to wait for and what to type then (Enter is added). */
export interface Answer {
  readonly when: RegExp
  readonly type: string
}

/** Runs `matrix-backup args` in a terminal `columns` wide; `redirect` is shell redirection after the command. */
export const inTerminal = (
  args: ReadonlyArray<string>,
  options: { readonly columns?: number; readonly answers?: ReadonlyArray<Answer>; readonly redirect?: string; readonly env?: Record<string, string> } = {},
): Promise<TerminalRun> =>
  new Promise((resolve, reject) => {
    const command = `stty cols ${options.columns ?? 80} rows 40; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")} ${options.redirect ?? ""}`
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MATRIX_")))
    const child = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...clean, TERM: "xterm", ...options.env } })
    const pending = [...(options.answers ?? [])]
    // `script` ends only after its input does: close it once nothing is left to type.
    if (pending.length === 0) child.stdin.end()
    let screen = ""
    let consumed = 0
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000)
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8")
      const next = pending[0]
      if (next !== undefined && next.when.test(screen.slice(consumed))) {
        pending.shift()
        consumed = screen.length
        child.stdin.write(`${next.type}\r`)
        if (pending.length === 0) child.stdin.end()
      }
    })
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, screen })
    })
  })

/** The lines a terminal shows: redraws (`\r`) and line ends split, erase-line codes removed. */
export const screenLines = (screen: string): Array<string> =>
  screen
    .split(`${String.fromCharCode(27)}[K`)
    .join("")
    .split(/\r\n|\r|\n/)
    .filter((line) => line !== "")
