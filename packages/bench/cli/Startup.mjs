/* global performance, process */
// Start-up of the restore command: from spawning it to the backup download request reaching the homeserver, and the
// whole process, on a small backup. Run through pnpm as README.md shows it and with node on the bundle directly, so
// the launcher's own cost shows. Medians of `runs` runs, each a new device with its own state directory.
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { watchDownloads } from "./DownloadWatch.mjs"

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** The two launchers: as users run it, and node on the bundle with the same flags as the package script. */
export const launchers = (root) => [
  { name: "pnpm matrix-backup", command: "pnpm", args: ["matrix-backup"], cwd: root },
  {
    name: "node dist/bundle/matrix-backup.js",
    command: process.execPath,
    args: ["--max-old-space-size=1024", join(root, "apps", "cli", "dist", "bundle", "matrix-backup.js")],
    cwd: root,
  },
]

const runOnce = (launcher, env, args) =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const proc = spawn(launcher.command, [...launcher.args, ...args], { cwd: launcher.cwd, env, stdio: ["ignore", "ignore", "inherit"] })
    proc.on("exit", (code) => (code === 0 ? resolve({ started, ended: performance.now() }) : reject(new Error(`${launcher.name} exited with ${code}`))))
  })

/**
 * Median start-up (spawn to download request) and whole-process time per launcher. `server` is a seeded bench server;
 * `env(url, token)` gives the command's environment; `newDevice()` a fresh access token.
 */
export const measureStartup = async ({ root, server, env, newDevice, runs }) => {
  const relay = await watchDownloads(server.url)
  const results = []
  try {
    for (const launcher of launchers(root)) {
      const startups = []
      const wholes = []
      for (let run = 0; run < runs; run++) {
        const state = mkdtempSync(join(tmpdir(), "cli-startup-"))
        const token = await newDevice()
        relay.reset()
        const args = ["restore", "--recovery-key", server.recoveryKey, "--state", state, "--json"]
        const { started, ended } = await runOnce(launcher, env(relay.url, token), args)
        const first = relay.firstDownload()
        if (first === undefined) throw new Error(`${launcher.name}: no download request seen`)
        startups.push(first - started)
        wholes.push(ended - started)
      }
      results.push({ name: launcher.name, startupMs: median(startups), wholeMs: median(wholes), startups })
    }
  } finally {
    await relay.close()
  }
  return results
}
