// Adds up the vitest JSON reports of every package into one line: "tests: N passed, N failed, N skipped".
// Exits 1 when there is no report, no passing test or any failure (a file that failed to load counts).
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

let passed = 0, failed = 0, skipped = 0, reports = 0
for (const root of ["packages", "apps"]) {
  if (!existsSync(root)) continue
  for (const name of readdirSync(root)) {
    const file = join(root, name, ".vitest-report.json")
    if (!existsSync(file)) continue
    reports++
    const report = JSON.parse(readFileSync(file, "utf8"))
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
