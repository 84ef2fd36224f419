// Adds up the vitest JSON reports of every package into one line: "tests: N passed, N failed, N skipped".
// Exits 1 when there is no report, no passing test or any failure (a file that failed to load counts).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

let passed = 0, failed = 0, skipped = 0, reports = 0
// Package folders: packages/*, apps/*, and examples/ (a package itself).
const packageDirs = ["packages", "apps"].flatMap((root) => (existsSync(root) ? readdirSync(root).map((name) => join(root, name)) : []))
for (const dir of [...packageDirs, "examples"]) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) continue
  // ".vitest-report.json", plus ".vitest-report.<run>.json" for a package with a second run (e.g. a browser one)
  for (const entry of readdirSync(dir).filter((f) => /^\.vitest-report(\.[\w-]+)?\.json$/.test(f)).sort()) {
    reports++
    const report = JSON.parse(readFileSync(join(dir, entry), "utf8"))
    passed += report.numPassedTests ?? 0
    failed += report.numFailedTests ?? 0
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
    for (const result of report.testResults ?? []) {
      if (result.status === "failed" && (result.assertionResults ?? []).length === 0) failed++
    }
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(reports === 0 || passed === 0 || failed > 0 ? 1 : 0)
