// The playground's tests run in Node and drive the built page in Chromium; they need the build first.
import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } }))
