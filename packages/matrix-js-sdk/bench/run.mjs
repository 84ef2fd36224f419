/* global console, process, URL */
// Restore benchmark (prints figures, asserts nothing): one fake homeserver process seeded with N keys, then
// matrix-js-sdk 43's own `restoreKeyBackup`, the bridge's `restoreKeyBackup` (once per thread count) and the
// import-only ceiling (js-sdk's `importBackedUpRoomKeys` alone, on keys decrypted beforehand), each in its own process
// on a fresh device, same backup. Prints keys/s and peak RSS of each. Runs the built packages: the script builds this
// one; `turbo run bench` also builds its dependencies.
// Usage: node bench/run.mjs [--keys 100000] [--threads default,2] [--batch 1000] [--ceilings 1000] [--backup-on]
// --threads: the bridge's decryption thread counts to run, "default" for its own choice.
// --ceilings: the batch sizes to time the import-only ceiling with (e.g. 500,1000,2000,5000).
// --backup-on: the devices have key backup uploads enabled (see restore.mjs), as an app that loaded the key from
// Secret Storage would; js-sdk's upload loop then scans the in-memory store after imports, on both sides.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: {
    keys: { type: "string", default: "100000" },
    threads: { type: "string", default: "default,2" },
    batch: { type: "string", default: "1000" },
    ceilings: { type: "string", default: "1000" },
    "backup-on": { type: "boolean", default: false },
  },
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
const env = { BRIDGE_BENCH_SERVER: JSON.stringify(server), BRIDGE_BENCH_BACKUP_ON: values["backup-on"] ? "1" : "0" }
console.log(`  key backup uploads ${values["backup-on"] ? "on" : "off"} on the restoring devices`)
const runs = [
  { side: "js-sdk", label: "matrix-js-sdk 43 restoreKeyBackup", argv: ["js-sdk"] },
  ...values.threads.split(",").map((t) => ({ side: "bridge", label: `bridge restoreKeyBackup (${t === "default" ? "default" : t} threads)`, argv: ["bridge", t, values.batch] })),
  ...values.ceilings.split(",").map((b) => ({ side: "ceiling", label: `import only, batches of ${b}`, argv: ["ceiling", "2", b] })),
]
const rows = []
for (const { side, label, argv } of runs) {
  const { json: r } = await child("restore", argv, env)
  console.log(`  ${label.padEnd(40)} ${fmt(r.imported).padStart(8)}/${fmt(r.total)} keys ${fmt(r.ms).padStart(8)} ms ${fmt(r.imported / (r.ms / 1000)).padStart(7)} keys/s  peak RSS ${fmt(r.rssMb).padStart(5)} MB  (js-sdk backup scans: ${r.scans.count}, ${fmt(r.scans.ms)} ms)`)
  rows.push({ side, label, ...r })
}
const js = rows[0]
for (const ours of rows.filter((r) => r.side === "bridge")) {
  console.log(`  ${ours.label} / js-sdk: ${(ours.imported / ours.ms / (js.imported / js.ms)).toFixed(2)}x keys/s, ${(ours.rssMb / js.rssMb).toFixed(2)}x peak RSS`)
}
proc.stdin.end()
