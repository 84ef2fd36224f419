// The browser entry in Debian's Chromium (playwright-core): the page, bundled as an app's bundler would bundle it,
// runs a real matrix-js-sdk client (Rust crypto in wasm) that restores through the bridge from the fake homeserver: the
// restore on a Web Worker (or on the page's thread), decrypting with Web Crypto on two more. Its crypto then exports
// exactly the backed-up keys.
import type { RunningFakeHomeserver } from "@matrix-backup/testkit"
import { loginNewDevice } from "@matrix-backup/testkit"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundlePage } from "./browser/bundle.js"
import type { PageInput } from "./browser/page.js"
import { serveStatic, type StaticServer } from "@matrix-backup/testkit/StaticServer"
import { seeded, serverWithUser, uploadsSince } from "./support.js"

const CHROMIUM = process.env["CHROMIUM_PATH"] || "/usr/bin/chromium"
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

let outDir: string
let bundled: ReadonlyArray<string>
let site: StaticServer
let browser: Browser
let server: RunningFakeHomeserver | undefined

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "bridge-page-"))
  bundled = await bundlePage(outDir)
  site = await serveStatic(outDir)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await site?.stop()
  await server?.stop()
  rmSync(outDir, { recursive: true, force: true })
})

const sessionKeys = (keys: ReadonlyArray<{ session_id: string; session_key: string }>) =>
  keys.map((k) => `${k.session_id} ${k.session_key}`).sort()

describe("the browser entry in Chromium", () => {
  it("is what the bundler picks, and reaches no Node module", () => {
    expect(bundled).toContain("dist/index.browser.js")
    expect(bundled).toContain("dist/DecryptWorkerBrowser.js")
    expect(bundled).toContain("dist/RestoreWorkerBrowser.js")
    expect(bundled).not.toContain("dist/index.js")
    expect(bundled.filter((path) => path.startsWith("node:") || /crypto-node|platform-node/.test(path))).toEqual([])
  })

  it.each([
    { offThread: true, where: "on a Web Worker (the default)" },
    { offThread: false, where: "on the page's thread" },
  ])("restores a backup into a js-sdk client in the page, the restore $where, decrypting on two Web Workers", { timeout: 120_000 }, async ({ offThread }) => {
    const made = await serverWithUser()
    await server?.stop()
    server = made.server
    const { privateKey, keys, version } = await seeded(server, made.user, 1200)
    const device = await loginNewDevice(server.url, made.user)
    const logBefore = (await server.admin.requestLog()).length

    const tab = await browser.newPage()
    const problems: Array<string> = []
    tab.on("pageerror", (error) => problems.push(error.message))
    const workers: Array<string> = []
    tab.on("worker", (worker) => workers.push(worker.url()))
    await tab.goto(site.url)
    await tab.waitForFunction(() => Reflect.get(globalThis, "pageReady") === true)
    const input: PageInput = { url: server.url, ...device, privateKey: [...privateKey], version, workers: 2, offThread }
    const out = await tab.evaluate((arg) => Reflect.get(globalThis, "restoreInPage")(arg), input)

    expect(out).toMatchObject({ total: 1200, imported: 1200, stages: ["fetch", "load_keys"] })
    expect(Object.values(out.failures).every((n) => n === 0)).toBe(true)
    expect(sessionKeys(out.exported)).toEqual(sessionKeys(keys))
    expect(workers.filter((url) => url.endsWith("/RestoreWorkerBrowser.js"))).toHaveLength(offThread ? 1 : 0)
    expect(workers.filter((url) => url.endsWith("/DecryptWorkerBrowser.js"))).toHaveLength(2)
    expect(await uploadsSince(server, logBefore)).toEqual([])
    expect(problems).toEqual([])
    await tab.close()
  })
})
