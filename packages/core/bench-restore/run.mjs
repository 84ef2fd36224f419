/* global console, process */
// Restore benchmark (prints figures, asserts nothing): seeds the fake homeserver (own process) with N keys and
// restores them, each side in its own child process so peak RSS is honest: our KeyBackupRestore into SQLite
// (Web Crypto backend, and @noble at the smallest size), then matrix-js-sdk 43 `restoreKeyBackup` (wasm, in memory).
// Usage: node bench-restore/run.mjs [--sizes 10000,100000] [--ours-only 500000] [--noble 10000] [--reuse 1]
//        [--batch 200] [--concurrency 4] [--node-flags "--max-old-space-size=64"] (flags for our child only)
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const here = dirname(fileURLToPath(import.meta.url))
const core = resolve(here, "..")
const packages = resolve(core, "..")
const out = join(core, "dist-bench", "restore")
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000" },
    "ours-only": { type: "string", default: "500000" },
    noble: { type: "string", default: "10000" },
    reuse: { type: "string", default: "1" },
    concurrency: { type: "string", default: "4" },
    batch: { type: "string", default: "200" },
    "build-only": { type: "boolean", default: false },
    "node-flags": { type: "string", default: "" },
    workers: { type: "string", default: "" },
  },
})
const list = (s) => (s === "" ? [] : s.split(",").map(Number))

const esbuild = createRequire(createRequire(createRequire(import.meta.url).resolve("vitest/package.json")).resolve("vite/package.json"))("esbuild")
const betterSqlite = createRequire(join(packages, "store-sqlite", "package.json")).resolve("better-sqlite3")
const workspace = {
  name: "workspace",
  setup(build) {
    build.onResolve({ filter: /^@matrix-backup\/[a-z-]+$/ }, (args) => ({ path: join(packages, args.path.split("/")[1], "src", "index.ts") }))
    build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: betterSqlite, external: true }))
  },
}
await esbuild.build({
  entryPoints: ["RestoreBenchServer", "RestoreBenchOurs", "RestoreBenchJsSdk", "DecryptWorkerNode"].map((n) => join(here, `${n}.ts`)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["@matrix-backup/source", "module", "node"],
  external: ["matrix-js-sdk", "@matrix-org/matrix-sdk-crypto-wasm"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [workspace],
  logLevel: "warning",
})

if (values["build-only"]) process.exit(0)

/** Runs a bundled child; resolves with its first JSON line. */
const child = (name, args, env, keepAlive = false, flags = []) =>
  new Promise((resolveLine, reject) => {
    const proc = spawn(process.execPath, [...flags, join(out, `${name}.mjs`), ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] })
    let buffer = ""
    proc.stdout.on("data", (chunk) => {
      buffer += chunk
      const newline = buffer.indexOf("\n")
      if (newline >= 0) resolveLine({ json: JSON.parse(buffer.slice(0, newline)), proc })
    })
    proc.on("exit", (code) => (code === 0 || keepAlive ? undefined : reject(new Error(`${name} exited with ${code}`))))
  })

const fmt = (n) => Math.round(n).toLocaleString("en-US")
const row = (label, r) =>
  console.log(
    `  ${label.padEnd(34)} ${fmt(r.keys).padStart(8)} keys  ${fmt(r.ms).padStart(8)} ms  ${fmt(r.keys / (r.ms / 1000)).padStart(7)} keys/s  peak RSS ${fmt(r.rssMb).padStart(5)} MB` +
      (r.rssAnonMb ? ` (anon ${fmt(r.rssAnonMb)}, file ${fmt(r.rssFileMb)}, V8 heap used ${fmt(r.heapUsedMb)})` : ""),
  )

const bench = async (count, withJsSdk, withNoble) => {
  const { json: server, proc } = await child("RestoreBenchServer", [String(count), values.reuse], {}, true)
  console.log(`${fmt(count)} keys (seeded in ${fmt(server.seedMs)} ms, ephemeral reuse ${values.reuse})`)
  const env = { RESTORE_BENCH_SERVER: JSON.stringify(server), RESTORE_BENCH_CONCURRENCY: values.concurrency, RESTORE_BENCH_BATCH: values.batch }
  const flags = values["node-flags"] === "" ? [] : values["node-flags"].split(" ")
  const ours = (await child("RestoreBenchOurs", [], env, false, flags)).json
  row(`ours (${ours.backend}, SQLite${flags.length ? ` ${flags.join(" ")}` : ""})`, ours)
  for (const n of list(values.workers)) {
    const pooled = (await child("RestoreBenchOurs", [], { ...env, RESTORE_BENCH_WORKERS: String(n) }, false, flags)).json
    row(`ours (${pooled.backend}, SQLite)`, pooled)
  }
  if (withNoble) row("ours (noble, SQLite)", (await child("RestoreBenchOurs", [], { ...env, RESTORE_BENCH_BACKEND: "noble" }, false, flags)).json)
  if (withJsSdk) {
    const js = (await child("RestoreBenchJsSdk", [], env)).json
    row("matrix-js-sdk 43 (wasm, memory)", js)
    console.log(`  ratio ours/js-sdk: ${(ours.keys / ours.ms / (js.keys / js.ms)).toFixed(1)}x keys/s, ${(js.rssMb / ours.rssMb).toFixed(1)}x less peak RSS`)
  }
  proc.stdin.end()
}

console.log(`node ${process.version}, batch ${values.batch}, concurrency ${values.concurrency}`)
for (const n of list(values.sizes)) await bench(n, true, list(values.noble).includes(n))
for (const n of list(values["ours-only"])) await bench(n, false, list(values.noble).includes(n))
