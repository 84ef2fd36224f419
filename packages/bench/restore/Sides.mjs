/* global process, fetch */
// The restore bench's bundled sides (restore/run.mjs builds them), for the benches that reuse its seeded server:
// build them, start one, and log in as the seeded user.
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const built = join(here, "..", "dist-bench", "restore")

/** Builds the sides (`restore/run.mjs --build-only`). */
export const buildSides = () =>
  new Promise((resolve, reject) =>
    spawn(process.execPath, [join(here, "run.mjs"), "--build-only"], { stdio: "inherit" }).on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error("build failed")),
    ),
  )

/** A bundled side process; resolves with its first JSON line and the process. */
export const side = (name, args, env = {}) =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(built, `${name}.mjs`), ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "ignore"] })
    let buffer = ""
    proc.stdout.on("data", (chunk) => {
      buffer += chunk
      const newline = buffer.indexOf("\n")
      if (newline >= 0) resolve({ json: JSON.parse(buffer.slice(0, newline)), proc })
    })
    proc.on("exit", (code) => (code === 0 || code === null ? undefined : reject(new Error(`${name} exited with ${code}`))))
  })

/** A new login of the seeded server's user (a new device): the login response. */
export const login = async (server) => {
  const response = await fetch(`${server.url}/_matrix/client/v3/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: server.userId }, password: server.password }),
  })
  return response.json()
}
