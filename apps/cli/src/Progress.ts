/**
 * Progress of long work: a redrawn bar on a terminal, plain periodic lines otherwise (logs, pipes, tests).
 * It writes to stdout, so the JSON summary printed after it stays the last line.
 */
import { Effect } from "effect"

/** A progress display for one stage. */
export interface Progress {
  /** Sets the number done (and optionally the total once known). */
  readonly update: (done: number, total?: number) => Effect.Effect<void>
  /** The same, for synchronous callbacks (e.g. a restore's `onProgress`). */
  readonly set: (done: number, total?: number) => void
  /** Draws the final state and ends the line. */
  readonly finish: Effect.Effect<void>
}

const WIDTH = 28
const LINE_INTERVAL_MS = 1000
const BAR_INTERVAL_MS = 80

const rate = (done: number, startedAt: number) => {
  const seconds = (Date.now() - startedAt) / 1000
  return seconds > 0 ? Math.round(done / seconds) : 0
}

const fmt = (n: number) => n.toLocaleString("en-US")

const bar = (label: string, done: number, total: number, perSecond: number) => {
  const ratio = total > 0 ? Math.min(1, done / total) : 0
  const filled = Math.round(ratio * WIDTH)
  const percent = `${Math.floor(ratio * 100)}`.padStart(3)
  return `${label.padEnd(9)} [${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}] ${percent}% ${fmt(done)}/${fmt(total)} keys  ${fmt(perSecond)} keys/s`
}

const line = (label: string, done: number, total: number, perSecond: number) =>
  `${label}: ${fmt(done)}/${fmt(total)} keys (${total > 0 ? Math.floor((100 * done) / total) : 0}%), ${fmt(perSecond)} keys/s`

/** A progress display on stdout; with `json` on a terminal it stays silent (a redrawn bar would mix with the JSON). */
export const makeProgress = (label: string, initialTotal: number, options: { readonly json?: boolean } = {}): Progress => {
  const tty = process.stdout.isTTY === true
  const quiet = options.json === true && tty
  const startedAt = Date.now()
  let total = initialTotal
  let done = 0
  let lastDraw = 0
  const draw = (force: boolean) => {
    if (quiet) return
    const now = Date.now()
    if (!force && now - lastDraw < (tty ? BAR_INTERVAL_MS : LINE_INTERVAL_MS)) return
    lastDraw = now
    const perSecond = rate(done, startedAt)
    if (tty) process.stdout.write(`\r${bar(label, done, total, perSecond)}\x1b[K`)
    else process.stdout.write(`${line(label, done, total, perSecond)}\n`)
  }
  const set = (n: number, newTotal?: number) => {
    done = n
    if (newTotal !== undefined) total = newTotal
    draw(false)
  }
  return {
    set,
    update: (n, newTotal) => Effect.sync(() => set(n, newTotal)),
    finish: Effect.sync(() => {
      draw(true)
      if (tty && !quiet) process.stdout.write("\n")
    }),
  }
}
