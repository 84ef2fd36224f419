// The examples run in Node against the fake homeserver (the browser page in Chromium); they need the packages built.
import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../vitest.shared.js"

export default mergeConfig(shared, defineConfig({ test: { include: ["test/**/*.test.ts", "effect/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 } }))
