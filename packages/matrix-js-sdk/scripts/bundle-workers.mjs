/* global console, process, URL */
// Writes the Node worker scripts as self-contained ES modules next to the build: dist/RestoreWorkerMain.js (the
// restore's thread) and dist/DecryptWorkerMain.js (crypto-node's decryption worker, which the restore thread's pool
// finds next to itself). Bundled, a thread loads only the code it runs, and no workspace resolution is needed.
import { build } from "esbuild"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

try {
  await build({
    entryPoints: { RestoreWorkerMain: here("../src/RestoreWorkerMain.ts"), DecryptWorkerMain: "@matrix-backup/crypto-node/DecryptWorkerMain" },
    outdir: here("../dist"),
    absWorkingDir: here(".."),
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // The workspace's TypeScript sources, so the bundle never depends on another package's build order.
    conditions: ["@matrix-backup/source"],
    // Some dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning",
  })
} catch (error) {
  console.error(error)
  process.exitCode = 1
}
