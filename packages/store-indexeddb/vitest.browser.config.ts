// Chromium run (vitest browser mode, Playwright driving the system Chromium): real IndexedDB.
// Under CI it writes its own JSON report, which .ci/summarize.mjs adds to the Node run's.
import { defineConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const conditions = ["@matrix-backup/source", "module", "browser", "development|production"]

export default defineConfig({
  ...shared,
  resolve: { conditions },
  test: {
    ...shared.test,
    include: ["test/browser/**/*.test.ts"],
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".vitest-report.browser.json" }]] : ["default"],
    browser: {
      enabled: true,
      provider: "playwright",
      headless: true,
      screenshotFailures: false,
      instances: [
        {
          browser: "chromium",
          launch: {
            executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
            args: [
              "--no-sandbox",
              "--disable-gpu",
              "--disable-quic",
              "--no-first-run",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-sync",
            ],
          },
        },
      ],
    },
  },
})
