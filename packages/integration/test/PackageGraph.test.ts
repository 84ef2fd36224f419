// The package-graph check (scripts/check-package-graph.mjs) run on tiny fake workspaces: it reports a path that
// leaves a package, an undeclared workspace import and a dependency cycle, each with its file and line, and passes
// a workspace that has none of them.
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

// The script lives at the workspace root; this package's turbo.json lists it among the test task's inputs.
const script = fileURLToPath(new URL("../../../scripts/check-package-graph.mjs", import.meta.url))

type Files = Record<string, string>
const manifest = (name: string, dependencies: Record<string, string> = {}, devDependencies: Record<string, string> = {}) =>
  JSON.stringify({ name, private: true, type: "module", dependencies, devDependencies }, null, 2)

/** Writes `files` under a fresh folder, runs the check on it, and removes the folder. */
const check = (files: Files) => {
  const root = mkdtempSync(join(tmpdir(), "package-graph-"))
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true })
      writeFileSync(join(root, path), text)
    }
    const run = spawnSync(process.execPath, [script, root], { encoding: "utf8" })
    return { status: run.status, stdout: run.stdout, stderr: run.stderr }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const clean: Files = {
  "turbo.json": JSON.stringify({ globalDependencies: ["shared.config.ts"] }),
  "shared.config.ts": "export default {}\n",
  "packages/a/package.json": manifest("@matrix-backup/a"),
  "packages/a/src/index.ts": 'export { x } from "./x.js"\n',
  "packages/a/src/x.ts": "export const x = 1\n",
  "packages/a/vitest.config.ts": 'export { default } from "../../shared.config.js"\n',
  "packages/b/package.json": manifest("@matrix-backup/b", { "@matrix-backup/a": "workspace:^" }),
  "packages/b/src/index.ts": 'import { x } from "@matrix-backup/a"\n// import { y } from "../../a/src/y.js" (a comment, not an import)\nexport const y = x\n',
  "apps/c/package.json": manifest("@matrix-backup/c", {}, { "@matrix-backup/b": "workspace:^" }),
  "apps/c/src/main.ts": 'import { y } from "@matrix-backup/b"\nconsole.log(y, "../../elsewhere is only text")\n',
}

describe("check-package-graph", () => {
  it("passes a workspace whose packages import each other by declared name only, with a one-line summary", () => {
    const result = check(clean)
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
    expect(result.stdout.trim().split("\n")).toHaveLength(1)
    expect(result.stdout).toMatch(/^package graph OK: 3 packages, 5 source files, 2 workspace dependencies/)
  })

  it("fails on a relative import, a dynamic import, a new URL and a reference path that leave the package", () => {
    const result = check({
      ...clean,
      "packages/b/test/b.test.ts": [
        'import { x } from "../../a/src/x.js"',
        'const later = await import("../../a/src/index.js")',
        'const worker = new URL("../../a/src/x.ts", import.meta.url)',
        "export { later, worker, x }",
      ].join("\n"),
      "packages/b/src/types.ts": '/// <reference path="../../a/src/ambient.d.ts" />\nexport {}\n',
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('packages/b/test/b.test.ts:1: path "../../a/src/x.js" leaves packages/b')
    expect(result.stderr).toContain('packages/b/test/b.test.ts:2: path "../../a/src/index.js" leaves packages/b')
    expect(result.stderr).toContain('packages/b/test/b.test.ts:3: path "../../a/src/x.ts" leaves packages/b')
    expect(result.stderr).toContain('packages/b/src/types.ts:1: path "../../a/src/ambient.d.ts" leaves packages/b')
  })

  it("fails on an import of a workspace package the importer does not declare", () => {
    const result = check({ ...clean, "packages/a/src/extra.ts": 'export {}\nimport "@matrix-backup/b"\nexport * from "@matrix-backup/c/sub"\n' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("packages/a/src/extra.ts:2: imports @matrix-backup/b, which packages/a/package.json does not declare")
    expect(result.stderr).toContain("packages/a/src/extra.ts:3: imports @matrix-backup/c, which packages/a/package.json does not declare")
  })

  it("fails on a cycle in the declared workspace dependencies, naming every package.json line of it", () => {
    const result = check({ ...clean, "packages/a/package.json": manifest("@matrix-backup/a", {}, { "@matrix-backup/c": "workspace:^" }) })
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/dependency cycle @matrix-backup\/\w -> @matrix-backup\/\w -> @matrix-backup\/\w -> @matrix-backup\/\w/)
    for (const where of ["packages/a/package.json:", "packages/b/package.json:", "apps/c/package.json:"]) expect(result.stderr).toContain(where)
    expect(result.stderr).toContain("package graph: 1 offence")
  })
})
