// Runs a TypeScript bench script through vite-node (a vitest dependency) with the workspace's resolve
// conditions, so the sibling packages it imports are read from source: `node bench-upload/runTs.mjs bench-upload/upload.ts`.
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const vitestRequire = createRequire(createRequire(import.meta.url).resolve("vitest/package.json"))
const cli = join(dirname(vitestRequire.resolve("vite-node/package.json")), "vite-node.mjs")
const [script, ...rest] = process.argv.slice(2)
const run = spawnSync(process.execPath, ["--expose-gc", cli, "-c", join(here, "../../../vitest.shared.ts"), script, "--", ...rest], { stdio: "inherit" })
process.exit(run.status ?? 1)
