// The `fake-homeserver` command as a child process: prints its URL as the first stdout line,
// serves, keeps state with --data, and exits cleanly on SIGTERM/SIGINT.
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { execFileSync, spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { registerUser } from "../src/index.js"
import { call, v3 } from "./support.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const binPath = join(packageDir, "dist", "bin.js")

const launch = async (args: ReadonlyArray<string>): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> => {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: "pipe" })
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve)
    child.once("exit", (code) => reject(new Error(`exited with ${code}`)))
  })
  return { child, url: JSON.parse(firstLine).url }
}

const exitCode = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)))

describe("fake-homeserver command", () => {
  beforeAll(() => {
    // The test task runs after `build`; build here too when run on its own.
    if (!existsSync(binPath)) execFileSync(join(packageDir, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], { cwd: packageDir })
  }, 120_000)

  it("prints {url} first, serves, and stops cleanly on SIGTERM", async () => {
    const { child, url } = await launch(["--port", "0", "--server-name", "cli.test"])
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const user = await registerUser(url, { username: "cli" })
    expect(user.userId).toBe("@cli:cli.test")
    child.kill("SIGTERM")
    expect(await exitCode(child)).toBe(0)
  })

  it("keeps state in --data across restarts and stops on SIGINT", async () => {
    const data = join(mkdtempSync(join(tmpdir(), "fake-hs-bin-")), "state.json")
    const first = await launch(["--data", data])
    const user = await registerUser(first.url)
    first.child.kill("SIGINT")
    expect(await exitCode(first.child)).toBe(0)
    const second = await launch(["--data", data, "--max-body-mb", "1"])
    const whoami = await call(second.url, "GET", v3("/account/whoami"), { token: user.accessToken })
    expect(whoami.body.user_id).toBe(user.userId)
    const big = await call(second.url, "PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.big`), { token: user.accessToken, body: { x: "y".repeat(2 * 1024 * 1024) } })
    expect(big.status).toBe(413)
    second.child.kill("SIGTERM")
    expect(await exitCode(second.child)).toBe(0)
  })

  it("takes its options after a `--` separator, as `pnpm fake-homeserver -- ...` passes them", async () => {
    const { child, url } = await launch(["--", "--port", "0", "--server-name", "dashdash.test"])
    const user = await registerUser(url, { username: "dd" })
    expect(user.userId).toBe("@dd:dashdash.test")
    child.kill("SIGTERM")
    expect(await exitCode(child)).toBe(0)
  })

  it("--profile picks the server's behaviour: dendrite has no fallback after its latest version is deleted", async () => {
    const { child, url } = await launch(["--profile", "dendrite"])
    const user = await registerUser(url)
    const body = { algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: { public_key: "k" } }
    for (let i = 0; i < 2; i++) await call(url, "POST", v3("/room_keys/version"), { token: user.accessToken, body })
    await call(url, "DELETE", v3("/room_keys/version/2"), { token: user.accessToken })
    expect((await call(url, "GET", v3("/room_keys/version"), { token: user.accessToken })).status).toBe(404)
    child.kill("SIGTERM")
    expect(await exitCode(child)).toBe(0)
  })

  it("--profile palpo-legacy: an update of a version on POST makes a new one (PUT is 405)", async () => {
    const { child, url } = await launch(["--profile", "palpo-legacy"])
    const user = await registerUser(url)
    const body = { algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: { public_key: "k" } }
    await call(url, "POST", v3("/room_keys/version"), { token: user.accessToken, body })
    expect((await call(url, "PUT", v3("/room_keys/version/1"), { token: user.accessToken, body })).status).toBe(405)
    await call(url, "POST", v3("/room_keys/version/1"), { token: user.accessToken, body })
    expect((await call(url, "GET", v3("/room_keys/version"), { token: user.accessToken })).body.version).toBe("2")
    child.kill("SIGTERM")
    expect(await exitCode(child)).toBe(0)
  })

  it("exits with 2 on bad arguments", async () => {
    for (const args of [["--port", "nope"], ["--profile", "matrix.org"]]) {
      const child = spawn(process.execPath, [binPath, ...args], { stdio: "pipe" })
      expect(await exitCode(child)).toBe(2)
    }
  })
})
