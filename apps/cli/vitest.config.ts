// The CLI's tests spawn the built command against the fake homeserver; on a busy 2-core machine they need time.
import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, defineConfig({ test: { testTimeout: 90_000, hookTimeout: 90_000 } }))
