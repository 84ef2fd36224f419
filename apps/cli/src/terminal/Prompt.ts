/**
 * Questions on a terminal: a line (echoed), a secret (not echoed: the terminal is put in raw mode and nothing is
 * written back), and a yes/no confirmation. Questions go to stderr so stdout stays the command's output.
 * Ctrl-C or Ctrl-D cancels with a `Cancelled` error.
 */
import { Effect } from "effect"
import { createInterface } from "node:readline"
import { type CliError, cancelledError } from "../CliError.js"

/** Asks for one line, echoed as typed. */
export const askLine = (question: string): Effect.Effect<string, CliError> =>
  Effect.async<string, CliError>((resume) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    let answered = false
    rl.on("SIGINT", () => rl.close())
    rl.on("close", () => {
      if (!answered) resume(Effect.fail(cancelledError()))
    })
    rl.question(question, (answer) => {
      answered = true
      rl.close()
      resume(Effect.succeed(answer.trim()))
    })
    return Effect.sync(() => rl.close())
  })

/** Asks for a secret without echoing it. */
export const askSecret = (question: string): Effect.Effect<string, CliError> =>
  Effect.async<string, CliError>((resume) => {
    const input = process.stdin
    let value = ""
    const stop = () => {
      input.off("data", onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write("\n")
    }
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          stop()
          return resume(Effect.succeed(value.trim()))
        }
        if (ch === "\u0003" || (ch === "\u0004" && value === "")) {
          stop()
          return resume(Effect.fail(cancelledError()))
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1)
        else if (ch >= " ") value += ch
      }
    }
    // Echo goes off before the question shows, so nothing typed after seeing it can be echoed.
    input.setRawMode(true)
    input.resume()
    input.on("data", onData)
    process.stderr.write(question)
    return Effect.sync(() => {
      input.off("data", onData)
      input.setRawMode(false)
      input.pause()
    })
  })

/** Asks a yes/no question; only "y" or "yes" is a yes. */
export const confirm = (question: string): Effect.Effect<boolean, CliError> =>
  Effect.map(askLine(`${question} [y/N] `), (answer) => /^y(es)?$/i.test(answer))
