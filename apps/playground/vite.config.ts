// Builds the playground page; workspace packages are bundled from their TypeScript sources.
import { defineConfig } from "vite"

export default defineConfig({
  resolve: { conditions: ["@matrix-backup/source", "module", "browser", "development|production"] },
  // The decryption Web Worker is an ES module (it imports the same workspace sources).
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // @scure/base places a /* @__PURE__ */ comment where Rollup cannot use it; harmless, so not worth a warning.
      onwarn: (warning, warn) => (warning.message.includes("annotation that Rollup cannot interpret") ? undefined : warn(warning)),
    },
  },
})
