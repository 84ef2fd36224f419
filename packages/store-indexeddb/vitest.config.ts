// Node run: fake-indexeddb. The Chromium run has its own config (vitest.browser.config.ts).
import { configDefaults, defineConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default defineConfig({
  ...shared,
  test: { ...shared.test, exclude: [...configDefaults.exclude, "test/browser/**"] },
})
