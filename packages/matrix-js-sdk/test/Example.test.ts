// examples/restore.ts, run as written in its own Node process on the built package against the fake homeserver (its
// types are only stripped), and README.md's "Fast restore for matrix-js-sdk apps" block, which must be that file.
import { generateRoomKeys, loginNewDevice, seedBackup } from "@matrix-backup/testkit"
import { bootstrapJsSdkBackup, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { transform } from "esbuild"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { serverWithUser, uploadsSince } from "./support.js"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const example = readFileSync(join(root, "examples", "restore.ts"), "utf8")
// matrix-js-sdk 43 targets Node 22; on Node 20 the child first loads the testkit's Promise.withResolvers.
const polyfill = join(root, "node_modules", "@matrix-backup", "testkit", "dist", "PromiseWithResolvers.js")

const cleanups: Array<() => unknown> = []
afterAll(async () => {
  stopAllJsSdkClients()
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** Runs the example as a module inside the package (so it imports the package by name, as an app would). */
const runExample = async (env: Record<string, string>) => {
  const dir = mkdtempSync(join(root, ".example-"))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, "restore.mjs")
  writeFileSync(file, (await transform(example, { loader: "ts", format: "esm", target: "node20" })).code)
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["--import", polyfill, file], { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    )
  })
}

describe("the matrix-js-sdk example", () => {
  it("restores every key into a new js-sdk device that opens Secret Storage with the recovery key", { timeout: 180_000 }, async () => {
    const { server, user } = await serverWithUser()
    cleanups.push(() => server.stop())
    const first = await bootstrapJsSdkBackup(server.url, user)
    const key = await first.crypto.getSessionBackupPrivateKey()
    const version = await first.crypto.getActiveSessionBackupVersion()
    if (key === null || version === null) throw new Error("the first device has no backup")
    await seedBackup(server, user.userId, { backupPrivateKey: key, keys: generateRoomKeys(2500, { rooms: 20 }), version })
    const device = await loginNewDevice(server.url, user)
    const logBefore = (await server.admin.requestLog()).length

    const run = await runExample({
      MATRIX_HOMESERVER: server.url,
      MATRIX_ACCESS_TOKEN: device.accessToken,
      MATRIX_USER_ID: device.userId,
      MATRIX_DEVICE_ID: device.deviceId,
      MATRIX_RECOVERY_KEY: first.recoveryKey.encodedPrivateKey ?? "",
    })

    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(run.stdout).toMatch(/^1000 \/ 2500 keys$/m)
    expect(run.stdout).toMatch(/^Restored 2500 of 2500 keys/m)
    expect(await uploadsSince(server, logBefore)).toEqual([])
  })

  it("is what README.md shows under \"Fast restore for matrix-js-sdk apps\"", () => {
    const readme = readFileSync(join(root, "..", "..", "README.md"), "utf8")
    const section = readme.slice(readme.indexOf("## Fast restore for matrix-js-sdk apps"))
    expect(/```ts\n([\s\S]*?)```/.exec(section)?.[1]).toBe(example)
  })
})
