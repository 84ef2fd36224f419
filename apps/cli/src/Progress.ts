/**
 * Progress of long work, on stderr: a bar redrawn in place on a terminal, cut to the terminal's width; elsewhere a
 * plain line every few seconds and one final line. With `--json` and no terminal it stays silent. A total not known
 * yet (a restore of chosen rooms) shows as a count so far, never as "0/0 (100%)".
 */
import { Effect } from "effect"
import { narrates, type OutputMode } from "./Output.js"
import { columnsOf } from "./terminal/Terminal.js"

/** A progress display for one stage. */
export interface Progress {
  /** Sets the number done (and optionally the total once known; until then the count shows as "so far"). */
  readonly update: (done: number, total?: number) => Effect.Effect<void>
  /** The same, for synchronous callbacks (e.g. a restore's `onProgress`). */
  readonly set: (done: number, total?: number) => void
  /** Draws the final state and ends the line. */
  readonly finish: Effect.Effect<void>
  /** Shows `text` after the counts (e.g. "retry 2 in 2 s"), or clears it. */
  readonly note: (text: string | undefined) => Effect.Effect<void>
}

const LINE_INTERVAL_MS = 2000
const BAR_INTERVAL_MS = 80
const MAX_BAR = 28

const fmt = (n: number) => n.toLocaleString("en-US")
const percentOf = (done: number, total: number) => (total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100)

/**
 * `label [████░░░]  42% 4,200/10,000 keys  9,000 keys/s`, the bar shrunk (or dropped) so the line fits `columns - 1`;
 * with no total, `label 4,200 keys so far  9,000 keys/s`.
 */
export const barLine = (label: string, done: number, total: number | undefined, perSecond: number, columns: number, note = ""): string => {
  const counts = total === undefined ? `${fmt(done)} keys so far` : `${String(percentOf(done, total)).padStart(3)}% ${fmt(done)}/${fmt(total)} keys`
  const stats = `${counts}  ${fmt(perSecond)} keys/s${note === "" ? "" : `  ${note}`}`
  const room = columns - 1 - label.length - stats.length - 5
  if (room < 5 || total === undefined) return `${label} ${stats}`.slice(0, Math.max(0, columns - 1))
  const width = Math.min(MAX_BAR, room)
  const filled = Math.round((Math.min(1, total > 0 ? done / total : 1)) * width)
  return `${label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${stats}`
}

/** `label: 4,200/10,000 keys (42%), 9,000 keys/s` (`4,200 keys so far` with no total), then `; note` when there is one. */
export const plainLine = (label: string, done: number, total: number | undefined, perSecond: number, note = ""): string =>
  `${label}: ${total === undefined ? `${fmt(done)} keys so far` : `${fmt(done)}/${fmt(total)} keys (${percentOf(done, total)}%)`}, ${fmt(perSecond)} keys/s${note === "" ? "" : `; ${note}`}`

/** A progress display for `label` in this output mode; `initialTotal` undefined while the total is unknown. */
export const makeProgress = (label: string, initialTotal: number | undefined, mode: OutputMode): Progress => {
  const columns = columnsOf(process.stderr)
  const silent = !narrates(mode)
  const startedAt = Date.now()
  let total = initialTotal
  let done = 0
  let lastDraw = 0
  let lastLine = ""
  let note = ""
  const draw = (final: boolean) => {
    if (silent) return
    const now = Date.now()
    if (!final && now - lastDraw < (columns === undefined ? LINE_INTERVAL_MS : BAR_INTERVAL_MS)) return
    lastDraw = now
    const seconds = (now - startedAt) / 1000
    const perSecond = seconds > 0 ? Math.round(done / seconds) : 0
    if (columns !== undefined) {
      process.stderr.write(`\r${barLine(label, done, total, perSecond, columns, note)}\x1b[K${final ? "\n" : ""}`)
      return
    }
    const line = plainLine(label, done, total, perSecond, note)
    // The final state is printed once, even when the last periodic line already showed it.
    if (line.replace(/, [\d,]+ keys\/s/, "") === lastLine.replace(/, [\d,]+ keys\/s/, "")) return
    lastLine = line
    process.stderr.write(`${line}\n`)
  }
  const set = (n: number, newTotal?: number) => {
    done = n
    if (newTotal !== undefined) total = newTotal
    draw(false)
  }
  const setNote = (text: string | undefined) => {
    if ((text ?? "") === note) return
    note = text ?? ""
    lastDraw = 0
    draw(false)
  }
  return {
    set,
    update: (n, newTotal) => Effect.sync(() => set(n, newTotal)),
    finish: Effect.sync(() => draw(true)),
    note: (text) => Effect.sync(() => setNote(text)),
  }
}
