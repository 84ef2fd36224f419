// The published packages as a user gets them: `pnpm pack` each one, install the tarballs with plain npm in an empty
// project (third-party dependencies from the registry), compile the guide's quick start there unchanged with the
// project's own tsconfig, and run it with node against the fake homeserver. Uses the dist/ that the build made.
import { execFile, execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { createUserWithCrossSigning, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { examplePath } from "./RunExample.js"

const run = promisify(execFile)
const work = mkdtempSync(join(tmpdir(), "matrix-backup-pack-"))
let server: RunningFakeHomeserver | undefined
afterAll(async () => {
  await server?.stop()
  rmSync(work, { recursive: true, force: true })
})

/**
 * Every published (not private) workspace package this package depends on (its package.json lists them all), with
 * its folder, found through the workspace link in node_modules.
 */
const examplesManifest = JSON.parse(readFileSync(examplePath("package.json"), "utf8"))
const published = Object.keys(examplesManifest.devDependencies)
  .filter((name) => name.startsWith("@matrix-backup/"))
  .map((name) => realpathSync(examplePath(`node_modules/${name}`)))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.private !== true)

/** The project a user starts with: a package.json and the tsconfig `tsc --init` gives a Node ESM app. */
const emptyProject = (dir: string): void => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "quick-start-app", private: true, type: "module" }))
  const compilerOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, types: ["node"] }
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions }))
}

/**
 * better-sqlite3 compiles its addon at install when no prebuilt binary can be downloaded (none can be here), which
 * takes minutes; the workspace's build of the same version is copied in instead, so npm runs no install scripts.
 */
const copySqliteAddon = (project: string): void => {
  const storeDir = published.find(({ manifest }) => manifest.name === "@matrix-backup/store-sqlite")?.dir ?? ""
  const fromStore = createRequire(join(storeDir, "package.json"))
  const built = join(dirname(fromStore.resolve("better-sqlite3/package.json")), "build/Release/better_sqlite3.node")
  const target = join(project, "node_modules/better-sqlite3/build/Release")
  mkdirSync(target, { recursive: true })
  copyFileSync(built, join(target, "better_sqlite3.node"))
}

describe("the packed packages installed with npm", () => {
  it("install in an empty project, and the quick start compiles and runs there unchanged", { timeout: 240_000 }, async () => {
    expect(published.map(({ manifest }) => manifest.name).sort()).toEqual([
      "@matrix-backup/core",
      "@matrix-backup/crypto-node",
      "@matrix-backup/http-fetch",
      "@matrix-backup/matrix-js-sdk",
      "@matrix-backup/store-indexeddb",
      "@matrix-backup/store-sqlite",
      "@matrix-backup/testkit",
    ])
    const tarballs = join(work, "tarballs")
    for (const { dir, manifest } of published) {
      if (!existsSync(join(dir, "dist"))) throw new Error(`${manifest.name} is not built: run the build first`)
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, stdio: "pipe" })
    }
    const files = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"))
    expect(files).toHaveLength(published.length)

    const project = join(work, "app")
    emptyProject(project)
    const install = ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"]
    await run("npm", [...install, ...files.map((f) => join(tarballs, f)), "@types/node@20"], { cwd: project, timeout: 180_000 })
    copySqliteAddon(project)
    // Installed from the tarballs, not linked to the workspace.
    const installed = JSON.parse(readFileSync(join(project, "node_modules/@matrix-backup/core/package.json"), "utf8"))
    expect(installed.version).toBe(published.find(({ manifest }) => manifest.name === "@matrix-backup/core")?.manifest.version)
    expect(JSON.stringify(installed)).not.toContain("workspace:")

    copyFileSync(examplePath("node/quick-start.ts"), join(project, "quick-start.ts"))
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
    await run(process.execPath, [tsc, "-p", project], { cwd: project })

    server = await startFakeHomeserver()
    const identity = await createUserWithCrossSigning(server.url)
    const env = {
      ...process.env,
      MATRIX_HOMESERVER: server.url,
      MATRIX_ACCESS_TOKEN: identity.accessToken,
      MATRIX_USER_ID: identity.userId,
      MATRIX_DEVICE_ID: identity.deviceId,
      MATRIX_DEVICE_SIGNING_KEY: Buffer.from(identity.deviceSigningSeed).toString("base64"),
    }
    const first = await run(process.execPath, ["quick-start.js"], { cwd: project, env })
    expect(first.stdout).toBe("Created key backup version 1\n")
    expect(existsSync(join(project, "keys.sqlite"))).toBe(true)
    const again = await run(process.execPath, ["quick-start.js"], { cwd: project, env })
    expect(again.stdout).toBe("Key backup version 1, trusted: true\n")
    expect((await server.admin.backupVersions(identity.userId)).map((v) => v.version)).toEqual(["1"])
  })
})
