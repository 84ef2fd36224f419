/* global console, process, setInterval, clearInterval, performance */
// Benchmark of the command users run (prints figures, asserts nothing): the fake homeserver (own process) is seeded
// with N keys shaped like real accounts; then `pnpm matrix-backup restore --recovery-key K --json` runs from the
// repository root exactly as README.md shows it (default flags, its own state directory), timed as a whole process
// with the peak RSS of the command's node process; then matrix-js-sdk 43's `restoreKeyBackup` on a fresh device of
// the same user, same backup, same run (its own process; timed on the call, as js-sdk apps experience it).
// First, the start-up: time from spawning the command to its download request reaching the server (Startup.mjs).
// Usage: node cli/run.mjs [--sizes 100000,500000] [--js-sdk 100000] [--runs 1] [--startup-runs 5]
//        [--extra "--threads 1"] (options added after the documented ones, to try other defaults; not what users run)
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { buildSides, login, side } from "../restore/Sides.mjs"
import { measureStartup } from "./Startup.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..", "..")
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: {
    sizes: { type: "string", default: "100000,500000" },
    "js-sdk": { type: "string", default: "100000" },
    runs: { type: "string", default: "1" },
    extra: { type: "string", default: "" },
    "startup-runs": { type: "string", default: "5" },
  },
})
const list = (s) => (s === "" ? [] : s.split(",").map(Number))

/** Peak RSS (MB) of each process under `pid`, sampled from /proc every 20 ms (VmHWM is the kernel's own peak). */
const watchTree = (pid) => {
  const peaks = new Map()
  const childrenOf = () => {
    const parent = new Map()
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
        parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]))
      } catch {
        // The process ended between listing and reading.
      }
    }
    const tree = new Set([pid])
    for (let grew = true; grew; ) {
      grew = false
      for (const [p, pp] of parent) {
        if (tree.has(pp) && !tree.has(p)) {
          tree.add(p)
          grew = true
        }
      }
    }
    return tree
  }
  const sample = () => {
    for (const p of childrenOf()) {
      try {
        const status = readFileSync(`/proc/${p}/status`, "utf8")
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
        const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? "?"
        peaks.set(p, { name, mb: Math.max(hwm, peaks.get(p)?.mb ?? 0) })
      } catch {
        // The process ended between listing and reading.
      }
    }
  }
  const timer = setInterval(sample, 20)
  return {
    stop: () => {
      clearInterval(timer)
      return [...peaks.values()]
    },
  }
}

/** The command's environment: as a user's shell has it (no npm_* variables from this script's own launcher). */
const commandEnv = (url, token) => {
  const env = { ...process.env, PATH: `${join(root, ".tools", "bin")}:${process.env.PATH}`, MATRIX_HOMESERVER: url, MATRIX_ACCESS_TOKEN: token }
  for (const key of Object.keys(env)) if (key.startsWith("npm_") || key === "INIT_CWD") delete env[key]
  return env
}

/** `pnpm matrix-backup restore ...` as a user runs it; whole-process wall time and the node process's peak RSS. */
const ours = (server) =>
  new Promise((resolve, reject) => {
    const env = commandEnv(server.url, server.deviceToken)
    const state = mkdtempSync(join(tmpdir(), "cli-bench-"))
    const started = performance.now()
    const extra = values.extra === "" ? [] : values.extra.split(" ")
    const args = ["matrix-backup", "restore", "--recovery-key", server.recoveryKey, "--state", state, "--json", ...extra]
    const proc = spawn("pnpm", args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] })
    const watch = watchTree(proc.pid)
    let out = ""
    proc.stdout.on("data", (chunk) => (out += chunk))
    proc.on("exit", (code) => {
      const wall = performance.now() - started
      const peaks = watch.stop()
      if (code !== 0) return reject(new Error(`matrix-backup exited with ${code}`))
      const result = JSON.parse(out)
      const node = Math.max(0, ...peaks.filter((p) => p.name === "node" || p.name === "MainThread").map((p) => p.mb))
      resolve({ ...result, wallMs: wall, nodeRssMb: node, treeRssMb: peaks.reduce((sum, p) => sum + p.mb, 0) })
    })
  })

/** A new login of the seeded user (the command is a device of its own): its access token. */
const newDevice = async (server) => (await login(server)).access_token

const fmt = (n) => Math.round(n).toLocaleString("en-US")

await buildSides()
console.log(`node ${process.version}; the command as README.md runs it: pnpm matrix-backup restore --recovery-key K --json (default flags)`)
if (Number(values["startup-runs"]) > 0) {
  const { json: server, proc } = await side("RestoreBenchServer", ["50", "1", "accounts"], {})
  const results = await measureStartup({ root, server, env: commandEnv, newDevice: () => newDevice(server), runs: Number(values["startup-runs"]) })
  console.log(`start-up: spawn to the download request reaching the server, 50-key backup, median of ${values["startup-runs"]} runs`)
  for (const r of results) {
    console.log(`  ${r.name.padEnd(34)} start-up ${fmt(r.startupMs)} ms  whole process ${fmt(r.wholeMs)} ms  (runs: ${r.startups.map(fmt).join(", ")} ms)`)
  }
  proc.stdin.end()
}
for (const count of list(values.sizes)) {
  const { json: server, proc } = await side("RestoreBenchServer", [String(count), "1", "accounts"], {})
  console.log(`${fmt(count)} keys shaped like real accounts (seeded in ${fmt(server.seedMs)} ms)`)
  let r
  for (let run = 0; run < Number(values.runs); run++) {
    // Each run is a new device with its own state directory, so every run restores everything.
    r = await ours({ ...server, deviceToken: await newDevice(server) })
    const startup = r.wallMs - r.seconds * 1000
    console.log(
      `  pnpm matrix-backup restore${values.extra === "" ? "" : ` ${values.extra}`}   ${fmt(r.imported)} of ${fmt(r.total)} keys  whole process ${fmt(r.wallMs)} ms = ${fmt(r.total / (r.wallMs / 1000))} keys/s` +
        `  (restore ${fmt(r.seconds * 1000)} ms = ${fmt(r.keysPerSecond)} keys/s; start-up and exit ${fmt(startup)} ms)` +
        `  peak RSS: node ${fmt(r.nodeRssMb)} MB, with pnpm ${fmt(r.treeRssMb)} MB`,
    )
  }
  if (list(values["js-sdk"]).includes(count)) {
    const js = (await side("RestoreBenchJsSdk", [], { RESTORE_BENCH_SERVER: JSON.stringify(server) })).json
    console.log(`  matrix-js-sdk 43 restoreKeyBackup  ${fmt(js.keys)} keys  ${fmt(js.ms)} ms = ${fmt(js.keys / (js.ms / 1000))} keys/s  peak RSS ${fmt(js.rssMb)} MB`)
    console.log(
      `  ratio (whole command / js-sdk call): ${(r.total / r.wallMs / (js.keys / js.ms)).toFixed(1)}x keys/s, peak RSS ${(js.rssMb / r.nodeRssMb).toFixed(1)}x less`,
    )
  }
  proc.stdin.end()
}
