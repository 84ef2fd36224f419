// Runs bench/IndexedDbBench.browser.ts in Chromium (not part of `test`): `pnpm run bench:browser`.
import { defineConfig } from "vitest/config"
import browser from "./vitest.browser.config.js"

export default defineConfig({
  ...browser,
  define: { __BENCH_KEYS__: JSON.stringify(process.env.BENCH_KEYS ?? "100000") },
  test: { ...browser.test, include: ["bench/**/*.browser.ts"], reporters: ["default"], testTimeout: 900_000 },
})
