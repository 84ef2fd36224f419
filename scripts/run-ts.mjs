// Runs a TypeScript script (benchmarks) through vite-node, which ships with vitest, under the workspace's
// resolve conditions, so workspace packages load from source: `node ../../scripts/run-ts.mjs bench/X.ts [args]`.
// Children that need to start another TypeScript script find vite-node in MB_VITE_NODE.
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const fromVitest = createRequire(createRequire(import.meta.url).resolve("vitest/package.json"))
const viteNode = join(dirname(fromVitest.resolve("vite-node/package.json")), "vite-node.mjs")
const [script, ...args] = process.argv.slice(2)
const result = spawnSync(
  process.execPath,
  ["--expose-gc", viteNode, "-c", join(here, "../vitest.shared.ts"), script, "--", ...args],
  { stdio: "inherit", env: { ...process.env, MB_VITE_NODE: viteNode } },
)
process.exit(result.status ?? 1)
