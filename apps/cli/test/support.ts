// Runs the built `matrix-backup` (node dist/bin.js) as a child process and checks the output contract.
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js")

/** What one run printed and how it exited. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** The last stdout line parsed as JSON (undefined if it is not JSON). */
  readonly json: Record<string, unknown> | undefined
}

const lastJson = (stdout: string): Record<string, unknown> | undefined => {
  const last = stdout.trimEnd().split("\n").at(-1) ?? ""
  try {
    const parsed: unknown = JSON.parse(last)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Runs the CLI asynchronously (the fake homeserver lives in this process and must keep answering). */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> =>
  new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MATRIX_")))
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, stdout, stderr, json: lastJson(stdout) })
    })
  })

/** A fresh state directory. */
export const stateDir = (): string => mkdtempSync(join(tmpdir(), "matrix-backup-cli-test-"))

/** Asserts a clean failure: non-zero exit, one stderr line, the JSON error code, and none of the secrets printed. */
export const expectFailure = (run: CliRun, code: string, secrets: ReadonlyArray<string> = []): void => {
  expect(run.code).not.toBe(0)
  expect(run.json?.["error"]).toMatchObject({ code, message: expect.any(String) })
  expect(run.stderr.trim().split("\n")).toHaveLength(1)
  expect(run.stderr).toMatch(/^matrix-backup: /)
  expectNoSecrets(run, secrets)
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
