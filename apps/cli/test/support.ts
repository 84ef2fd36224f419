// Runs the built `matrix-backup` (node dist/bundle/matrix-backup.js, as `bin` and `pnpm matrix-backup` do) as a child process and checks the output contract.
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type FakeHomeserverOptions, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { afterAll, beforeAll, expect } from "vitest"

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bundle", "matrix-backup.js")

/** What one run printed and how it exited. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** With `--json`: the whole of stdout parsed as one JSON object, or, when stdout is empty, the JSON error on stderr. */
  readonly json: Record<string, unknown> | undefined
}

const parseObject = (text: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** stdout is one JSON document and nothing else; a failure leaves stdout empty and puts its JSON on stderr. */
const jsonOf = (stdout: string, stderr: string): Record<string, unknown> | undefined =>
  stdout === "" ? parseObject(stderr) : parseObject(stdout)

/** Runs the CLI asynchronously (the fake homeserver lives in this process and must keep answering). */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> =>
  new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MATRIX_")))
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, stdout, stderr, json: jsonOf(stdout, stderr) })
    })
  })

/** A fresh state directory. */
export const stateDir = (): string => mkdtempSync(join(tmpdir(), "matrix-backup-cli-test-"))

/** Asserts a clean `--json` failure: non-zero exit, nothing on stdout, one JSON line on stderr with the code, no secret. */
export const expectFailure = (run: CliRun, code: string, secrets: ReadonlyArray<string> = []): void => {
  expect(run.code).not.toBe(0)
  expect(run.stdout).toBe("")
  expect(run.stderr.endsWith("\n")).toBe(true)
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1)
  expect(JSON.parse(run.stderr)).toEqual({ error: { code, message: expect.any(String) } })
  expectNoPlumbing(run)
  expectNoSecrets(run, secrets)
}

/** Asserts a clean human failure: non-zero exit, nothing on stdout, one `matrix-backup: ...` line on stderr. */
export const expectHumanFailure = (run: CliRun, message: RegExp): void => {
  expect(run.code).not.toBe(0)
  expect(run.stdout).toBe("")
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1)
  expect(run.stderr).toMatch(/^matrix-backup: /)
  expect(run.stderr).toMatch(message)
  expectNoPlumbing(run)
}

/** No internal names in what people read: error tags, reason codes in parentheses, or framework words. */
export const expectNoPlumbing = (run: CliRun): void => {
  const text = `${run.stdout}\n${run.stderr}`
  expect(text).not.toMatch(/\b[A-Z][A-Za-z]*(Error|Exception)\b|\((Parity|Base58|Prefix|Length|Transport|NoSecretStorage|NoPassphrase)\)|_tag|Redacted/)
}

/** None of `secrets` (nor their space-free forms) appears in stdout or stderr. */
export const expectNoSecrets = (run: CliRun, secrets: ReadonlyArray<string>): void => {
  for (const secret of secrets) {
    for (const form of new Set([secret, secret.replace(/\s+/g, "")])) {
      expect(run.stdout.includes(form), "secret in stdout").toBe(false)
      expect(run.stderr.includes(form), "secret in stderr").toBe(false)
    }
  }
}

/** One fake homeserver for all the tests of a file (or a describe block): started before them, stopped after them. */
export const sharedFakeHomeserver = (options: FakeHomeserverOptions = {}): (() => RunningFakeHomeserver) => {
  let server: RunningFakeHomeserver | undefined
  beforeAll(async () => {
    server = await startFakeHomeserver(options)
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })
  return () => {
    if (server === undefined) throw new Error("the fake homeserver is not running")
    return server
  }
}
