// The package's `exports` name files its build has (the test task runs after this package's build), and the Node
// entry, imported by name without the workspace's source condition, is the built bridge.
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const manifest: unknown = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))

/** Every file an export condition names, except the workspace's source condition. */
const targets = (entry: unknown): Array<string> => {
  if (typeof entry === "string") return [entry]
  if (typeof entry !== "object" || entry === null) return []
  return Object.entries(entry).flatMap(([condition, value]) => (condition === "@matrix-backup/source" ? [] : targets(value)))
}

describe("the package's exports", () => {
  it("name built files only, and each of them exists", () => {
    const exports = typeof manifest === "object" && manifest !== null ? Reflect.get(manifest, "exports") : undefined
    const files = targets(exports)
    expect(files).toEqual(expect.arrayContaining(["./dist/index.js", "./dist/index.browser.js", "./dist/DecryptWorkerBrowser.js"]))
    for (const file of files) {
      expect(file.startsWith("./dist/"), file).toBe(true)
      expect(existsSync(join(root, file)), file).toBe(true)
    }
  })

  it("resolve the Node entry to the built bridge in plain Node", async () => {
    const script = `const m = await import("@matrix-backup/matrix-js-sdk"); console.log(import.meta.resolve("@matrix-backup/matrix-js-sdk"), typeof m.restoreKeyBackup, typeof m.restoreKeyBackupWithPassphrase)`
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: root, env: { PATH: process.env["PATH"] ?? "" } }, (error, stdout) =>
        error === null ? resolve(stdout) : reject(error),
      ),
    )
    expect(out.trim()).toBe(`${new URL("dist/index.js", `file://${root}/`).href} function function`)
  })
})
