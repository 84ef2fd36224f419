// Runs an example file as written, in this process: its environment variables set, a fresh working directory, and
// what it prints to the console collected. Each run imports the file anew.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { vi } from "vitest"

/** What an example printed (console.log, warn and error, in order) and the exit code it set. */
export interface ExampleRun {
  readonly output: ReadonlyArray<string>
  readonly exitCode: number
}

/** The absolute path of an example, from the examples folder (`node/quick-start.ts`). */
export const examplePath = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url))

/** A new empty directory to run an example in. */
export const freshDirectory = (): string => mkdtempSync(join(tmpdir(), "matrix-backup-example-"))

/** Imports the example with `env` added to the environment and `cwd` as the working directory, then restores both. */
export const runExample = async (relative: string, env: Readonly<Record<string, string>>, cwd: string): Promise<ExampleRun> => {
  const output: Array<string> = []
  const record = (...args: Array<unknown>) => void output.push(args.map(String).join(" "))
  const spies = [vi.spyOn(console, "log"), vi.spyOn(console, "warn"), vi.spyOn(console, "error")].map((spy) => spy.mockImplementation(record))
  const savedEnv = { ...process.env }
  const savedCwd = process.cwd()
  Object.assign(process.env, env)
  process.chdir(cwd)
  process.exitCode = 0
  vi.resetModules()
  try {
    await import(examplePath(relative))
    return { output, exitCode: Number(process.exitCode ?? 0) }
  } finally {
    process.exitCode = 0
    process.chdir(savedCwd)
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
    Object.assign(process.env, savedEnv)
    for (const spy of spies) spy.mockRestore()
  }
}
