/* global console, process */
// Restore benchmark (prints figures, asserts nothing): seeds the fake homeserver (own process) with N keys and
// restores them, each side in its own child process so peak RSS is honest: our KeyBackupRestore into SQLite
// (node:crypto and Web Crypto backends, optionally on worker threads, and @noble at the smallest size), then matrix-js-sdk 43 `restoreKeyBackup` (wasm, in memory).
// Usage: node restore/run.mjs [--sizes 10000,100000] [--ours-only 500000] [--noble 10000] [--reuse 1]
//        [--backends node,webcrypto] [--workers 1,2] [--worker-requests 1,2] [--worker-backend node]
//        [--batch 200] [--concurrency 4] [--node-flags "--max-old-space-size=64"] (flags for our child only)
//        [--live-heap] (also samples the heap left after forced full collections: what the restore retains)
//        [--thread 256,12] (runs our restore on a worker thread with these old/young generation limits in MB, from a
//        main thread that loads nothing else: bounded V8 heap without process flags)
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { build } from "esbuild"

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, "..", "dist-bench", "restore")
// `pnpm ... bench:restore -- --flag` passes the `--` through: drop it.
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: {
    sizes: { type: "string", default: "10000,100000" },
    "ours-only": { type: "string", default: "500000" },
    noble: { type: "string", default: "10000" },
    reuse: { type: "string", default: "1" },
    concurrency: { type: "string", default: "4" },
    batch: { type: "string", default: "200" },
    "build-only": { type: "boolean", default: false },
    "node-flags": { type: "string", default: "" },
    "live-heap": { type: "boolean", default: false },
    thread: { type: "string", default: "" },
    workers: { type: "string", default: "2" },
    "worker-requests": { type: "string", default: "2" },
    backends: { type: "string", default: "node,webcrypto" },
    "worker-backend": { type: "string", default: "node" },
  },
})
const list = (s) => (s === "" ? [] : s.split(","))
/** Our side's entry: the restore itself, or the launcher that runs it on a thread with a bounded heap (--thread). */
const ourSide =
  values.thread === ""
    ? { entry: "RestoreBenchOurs", env: {}, label: "" }
    : { entry: "RestoreBenchThread", env: { RESTORE_BENCH_THREAD_HEAP: values.thread }, label: `, on a thread with heap ${values.thread} MB` }

// Workspace packages resolve by name to their TypeScript sources (the `@matrix-backup/source` export condition).
await build({
  entryPoints: ["RestoreBenchServer", "RestoreBenchOurs", "RestoreBenchThread", "RestoreBenchJsSdk", "DecryptWorkerNode", "DecryptWorkerMain"].map((n) => join(here, `${n}.ts`)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["@matrix-backup/source", "module", "node"],
  external: ["matrix-js-sdk", "@matrix-org/matrix-sdk-crypto-wasm", "better-sqlite3"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
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

/** CPU time (user + system, ms) the server process has used so far, from /proc (Linux). */
const cpuOf = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return NaN
  }
}
const fmt = (n) => Math.round(n).toLocaleString("en-US")
const row = (label, r) =>
  console.log(
    `  ${label.padEnd(34)} ${fmt(r.keys).padStart(8)} keys  ${fmt(r.ms).padStart(8)} ms  ${fmt(r.keys / (r.ms / 1000)).padStart(7)} keys/s  peak RSS ${fmt(r.rssMb).padStart(5)} MB` +
      (r.rssAnonMb ? ` (anon ${fmt(r.rssAnonMb)}, file ${fmt(r.rssFileMb)}, V8 heap used ${fmt(r.heapUsedMb)}; ${fmt(r.rssAtStartMb)} before the restore)` : "") +
      (r.live ? `; live heap ${fmt(r.live.beforeMb)} MB before, at most ${fmt(r.live.maxMb)} MB during` : "") +
      (r.cpuMs ? `; CPU µs/key: ours ${(r.cpuMs * 1000 / r.keys).toFixed(0)}, server ${(r.serverCpuMs * 1000 / r.keys).toFixed(0)}` : ""),
  )

const bench = async (count, withJsSdk, withNoble) => {
  const { json: server, proc } = await child("RestoreBenchServer", [String(count), values.reuse], {}, true)
  console.log(`${fmt(count)} keys (seeded in ${fmt(server.seedMs)} ms, ephemeral reuse ${values.reuse})`)
  const env = { RESTORE_BENCH_SERVER: JSON.stringify(server), RESTORE_BENCH_CONCURRENCY: values.concurrency, RESTORE_BENCH_BATCH: values.batch }
  const flags = [...(values["node-flags"] === "" ? [] : values["node-flags"].split(" ")), ...(values["live-heap"] ? ["--expose-gc"] : [])]
  const ours = []
  const run = async (extra) => {
    const serverBefore = cpuOf(proc.pid)
    const r = (await child(ourSide.entry, [], { ...env, ...ourSide.env, ...extra }, false, flags)).json
    r.backend += ourSide.label
    r.serverCpuMs = cpuOf(proc.pid) - serverBefore
    row(`ours (${r.backend}, SQLite${flags.length ? ` ${flags.join(" ")}` : ""})`, r)
    ours.push(r)
  }
  for (const backend of list(values.backends)) await run({ RESTORE_BENCH_BACKEND: backend })
  for (const n of list(values.workers)) {
    for (const requests of list(values["worker-requests"])) {
      await run({ RESTORE_BENCH_WORKERS: n, RESTORE_BENCH_WORKER_REQUESTS: requests, RESTORE_BENCH_BACKEND: values["worker-backend"] })
    }
  }
  if (withNoble) await run({ RESTORE_BENCH_BACKEND: "noble" })
  if (withJsSdk) {
    const js = (await child("RestoreBenchJsSdk", [], env)).json
    row("matrix-js-sdk 43 (wasm, memory)", js)
    for (const r of ours) {
      console.log(`  ratio ours (${r.backend}) / js-sdk: ${(r.keys / r.ms / (js.keys / js.ms)).toFixed(1)}x keys/s, ${(js.rssMb / r.rssMb).toFixed(1)}x less peak RSS`)
    }
  }
  proc.stdin.end()
}

console.log(`node ${process.version}, batch ${values.batch}, concurrency ${values.concurrency}`)
for (const n of list(values.sizes).map(Number)) await bench(n, true, list(values.noble).map(Number).includes(n))
for (const n of list(values["ours-only"]).map(Number)) await bench(n, false, list(values.noble).map(Number).includes(n))
