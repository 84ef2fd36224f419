/* global console, process, URL */
// Restore benchmark (prints figures, asserts nothing): one fake homeserver process seeded with N keys, then
// matrix-js-sdk 43's own `restoreKeyBackup` and the bridge's `restoreKeyBackup`, each in its own process on a fresh
// device, same backup. Prints keys/s and peak RSS of each. Runs the built packages: the script builds this one;
// `turbo run bench` also builds its dependencies.
// Usage: node bench/run.mjs [--keys 100000] [--threads 2]
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: { keys: { type: "string", default: "100000" }, threads: { type: "string", default: "2" } },
})
const script = (name) => fileURLToPath(new URL(`./${name}.mjs`, import.meta.url))

/** Starts a child; resolves with its first stdout line as JSON, and the process. */
const child = (name, argv, env = {}) =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script(name), ...argv], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] })
    let buffer = ""
    proc.stdout.on("data", (chunk) => {
      buffer += chunk
      const end = buffer.indexOf("\n")
      if (end >= 0) resolve({ json: JSON.parse(buffer.slice(0, end)), proc })
    })
    proc.on("exit", (code) => (code === 0 || code === null ? undefined : reject(new Error(`${name} exited with ${code}`))))
  })

const fmt = (n) => Math.round(n).toLocaleString("en-US")
const { json: server, proc } = await child("server", [values.keys])
console.log(`node ${process.version}: ${fmt(Number(values.keys))} keys seeded in ${fmt(server.seedMs)} ms`)
const env = { BRIDGE_BENCH_SERVER: JSON.stringify(server) }
const rows = []
for (const side of ["js-sdk", "bridge"]) {
  const { json: r } = await child("restore", [side, values.threads], env)
  const label = side === "js-sdk" ? "matrix-js-sdk 43 restoreKeyBackup" : `bridge restoreKeyBackup (${values.threads} threads)`
  console.log(`  ${label.padEnd(40)} ${fmt(r.imported).padStart(8)}/${fmt(r.total)} keys ${fmt(r.ms).padStart(8)} ms ${fmt(r.imported / (r.ms / 1000)).padStart(7)} keys/s  peak RSS ${fmt(r.rssMb)} MB`)
  rows.push(r)
}
const [js, ours] = rows
console.log(`  bridge / js-sdk: ${(ours.imported / ours.ms / (js.imported / js.ms)).toFixed(2)}x keys/s, ${(ours.rssMb / js.rssMb).toFixed(2)}x peak RSS`)
proc.stdin.end()
