// One vitest configuration for every package: workspace imports resolve to source, and under CI each
// package writes a JSON report that .ci/summarize.mjs adds up.
import { defineConfig } from "vitest/config"

const conditions = ["@matrix-backup/source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@matrix-backup/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    passWithNoTests: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".vitest-report.json" }]] : ["default"],
  },
})
