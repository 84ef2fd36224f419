/* global console, process, URL */
// Bundles the command into dist/bundle/: matrix-backup.js (what `bin` and `pnpm matrix-backup` run) and the decryption
// worker beside it. One tree-shaken file loads far faster than the packages' module graphs (effect's index alone loads
// every module of effect); better-sqlite3 stays outside (a native addon).
import { build } from "esbuild"
import { readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const { version } = JSON.parse(readFileSync(here("../package.json"), "utf8"))

const common = {
  outdir: here("../dist/bundle"),
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3"],
  define: { MATRIX_BACKUP_CLI_VERSION: JSON.stringify(version) },
  // The workspace's TypeScript sources, so the bundle never depends on another package's build order.
  conditions: ["@matrix-backup/source"],
  // Some dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning",
}

try {
  // Chunk names carry a hash: a stale one from an earlier build must not linger beside the new ones.
  rmSync(common.outdir, { recursive: true, force: true })
  await Promise.all([
    // The command, split: what a command loads only when it runs (the demo's fake homeserver) is a chunk of its own,
    // so every other command starts without parsing it. Chunks sit beside the worker script, which the code finds
    // relative to its own file.
    build({ ...common, entryPoints: [{ in: here("../src/bin.ts"), out: "matrix-backup" }], splitting: true, chunkNames: "[name]-[hash]" }),
    // The decryption worker, whole: one file for the thread to load, sharing no chunk with the command.
    build({ ...common, entryPoints: [{ in: here("../src/DecryptWorkerEntry.ts"), out: "DecryptWorkerMain" }] }),
  ])
} catch (error) {
  console.error(error)
  process.exitCode = 1
}
