// Runs a TypeScript benchmark through vite-node (shipped with vitest) with the workspace's resolve
// conditions, so workspace packages are read from source: `node bench/run.mjs bench/X.ts [args]`.
import { spawnSync } from "node:child_process"
import process from "node:process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const fromVitest = createRequire(createRequire(import.meta.url).resolve("vitest/package.json"))
const viteNode = join(dirname(fromVitest.resolve("vite-node/package.json")), "vite-node.mjs")
const [script, ...args] = process.argv.slice(2)
const result = spawnSync(
  process.execPath,
  ["--expose-gc", viteNode, "-c", join(here, "../../../vitest.shared.ts"), script, "--", ...args],
  { stdio: "inherit" },
)
process.exit(result.status ?? 1)
