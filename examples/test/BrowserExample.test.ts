// The guide's browser page in Debian's Chromium (playwright-core): the page script bundled with esbuild as an app
// would, served on loopback, against the fake homeserver. The first device sets up Secret Storage and the backup;
// a new device restores the keys in the backup with the recovery key typed into the page.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createUserWithCrossSigning, generateRoomKeys, loginNewDevice, type RunningFakeHomeserver, seedBackup, startFakeHomeserver, type TestUser } from "@matrix-backup/testkit"
import { serveStatic, type StaticServer } from "@matrix-backup/testkit/StaticServer"
import { examplePath } from "./RunExample.js"

const CHROMIUM = process.env["CHROMIUM_PATH"] || "/usr/bin/chromium"
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
const site = mkdtempSync(join(tmpdir(), "matrix-backup-page-"))
let homeserver: RunningFakeHomeserver
let pages: StaticServer
let browser: Browser

beforeAll(async () => {
  await build({
    entryPoints: [examplePath("browser/page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@matrix-backup/source"],
    outfile: join(site, "page.js"),
    logLevel: "error",
  })
  copyFileSync(examplePath("browser/index.html"), join(site, "index.html"))
  homeserver = await startFakeHomeserver()
  pages = await serveStatic(site)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
})

afterAll(async () => {
  await browser?.close()
  await pages?.stop()
  await homeserver?.stop()
  rmSync(site, { recursive: true, force: true })
})

/** Opens the page logged in as `device`, with its signing key when given; collects page errors. */
const open = async (device: TestUser, problems: Array<string>, signingSeed?: Uint8Array): Promise<Page> => {
  const tab = await (await browser.newContext()).newPage()
  tab.on("pageerror", (error) => problems.push(error.message))
  const login = new URLSearchParams({ baseUrl: homeserver.url, accessToken: device.accessToken, userId: device.userId, deviceId: device.deviceId })
  if (signingSeed !== undefined) login.set("deviceSigningKey", Buffer.from(signingSeed).toString("base64"))
  await tab.goto(`${pages.url}/#${login}`)
  await tab.waitForFunction(() => document.querySelector("#status")?.textContent?.includes("not checked") === false)
  return tab
}

describe("the guide's browser page in Chromium", () => {
  it("sets up Secret Storage and a backup, then restores on a new device with the typed recovery key", async () => {
    const problems: Array<string> = []
    const identity = await createUserWithCrossSigning(homeserver.url)
    const first = await open(identity, problems, identity.deviceSigningSeed)
    await first.click("#set-up")
    await first.waitForSelector("#setup:not(:empty)")
    const recoveryKey = (await first.textContent("#new-recovery-key")) ?? ""
    expect(recoveryKey).toMatch(/^E[sSt][A-Za-z0-9]{2}( [A-Za-z0-9]{4}){11}$/)
    expect(await first.textContent("#status")).toBe("Key backup: on")

    const [backup] = await homeserver.admin.backupVersions(identity.userId)
    const authData: unknown = backup?.auth_data
    const publicKey = typeof authData === "object" && authData !== null ? String(Reflect.get(authData, "public_key")) : ""
    await seedBackup(homeserver.admin, identity.userId, { backupPublicKey: publicKey, keys: generateRoomKeys(300, { rooms: 5 }), version: backup?.version ?? "" })

    const second = await open(await loginNewDevice(homeserver.url, identity), problems)
    await second.fill("#recovery-key", recoveryKey)
    await second.click("#restore")
    await second.waitForSelector("#result:not(:empty), #error:not(:empty)")
    expect(await second.textContent("#error")).toBe("")
    expect(await second.textContent("#result")).toBe("Restored 300 of 300 keys")
    expect(await second.textContent("#progress")).toBe("300 / 300")
    expect(problems).toEqual([])
  })
})
