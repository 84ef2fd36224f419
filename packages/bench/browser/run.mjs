/* global console, process, URL */
// Browser restore benchmark (prints figures, asserts nothing; not a test): the fake homeserver (own process) is
// seeded with N keys shaped like real accounts; a page in Debian's Chromium (playwright-core, headless) restores them
// on a new device each time: our KeyBackupRestore into IndexedDB with Web Crypto on the page's thread, the same on
// Web Workers, and matrix-js-sdk 43's own restoreKeyBackup (Rust crypto, IndexedDB store), same backup, same run.
// Each side is timed on its restore call, as the page sees it.
// Usage: node browser/run.mjs [--sizes 20000,100000] [--workers 2] [--chromium /usr/bin/chromium]
//        [--profile DIR] (writes each restore's page-thread CPU profile there, for Chrome DevTools)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { createServer } from "node:http"
import { availableParallelism } from "node:os"
import { dirname, extname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { build } from "esbuild"
import { chromium } from "playwright-core"
import { buildSides, login, side } from "../restore/Sides.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, "..", "dist-bench", "browser")
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: {
    sizes: { type: "string", default: "20000,100000" },
    workers: { type: "string", default: String(Math.min(4, availableParallelism())) },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH || "/usr/bin/chromium" },
    profile: { type: "string", default: "" },
  },
})
const fmt = (n) => Math.round(n).toLocaleString("en-US")

/** The page and its worker, for browsers; js-sdk's crypto wasm beside them where its loader looks for it. */
const buildPage = async () => {
  await build({
    entryPoints: ["BrowserBenchPage", "DecryptWorkerBrowser"].map((n) => join(here, `${n}.ts`)),
    outdir: out,
    bundle: true,
    // Readable names in the profiles when profiling.
    minify: values.profile === "",
    platform: "browser",
    format: "esm",
    target: "chrome120",
    conditions: ["@matrix-backup/source", "browser", "module"],
    logLevel: "warning",
  })
  // The package exports no path to its wasm: find it beside the package's Node entry.
  const entry = createRequire(import.meta.url).resolve("@matrix-org/matrix-sdk-crypto-wasm")
  const wasm = join(dirname(entry), "pkg", "matrix_sdk_crypto_wasm_bg.wasm")
  mkdirSync(join(out, "pkg"), { recursive: true })
  copyFileSync(wasm, join(out, "pkg", "matrix_sdk_crypto_wasm_bg.wasm"))
  writeFileSync(join(out, "index.html"), '<!doctype html><meta charset="utf-8"><title>restore bench</title><script type="module" src="./BrowserBenchPage.js"></script>\n')
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" }
/** Serves the built page on loopback. */
const servePage = () =>
  new Promise((resolve) => {
    const server = createServer((request, response) => {
      const path = normalize(new URL(request.url ?? "/", "http://x").pathname).replace(/^(\.\.[/\\])+/, "")
      const file = join(out, path === "/" ? "index.html" : path)
      try {
        const body = readFileSync(file)
        response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" })
        response.end(body)
      } catch {
        response.writeHead(404)
        response.end()
      }
    })
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }))
  })

/** A new login of the seeded user: every restore is a new device with empty stores. */
const newDevice = async (server) => {
  const session = await login(server)
  return { url: server.url, userId: session.user_id, deviceId: session.device_id, accessToken: session.access_token, privateKey: server.privateKey, version: server.version }
}

/** One restore in a fresh tab; the page's own timing of the restore call. */
const restoreIn = async (browser, pageUrl, side, run) => {
  const context = await browser.newContext()
  const tab = await context.newPage()
  const problems = []
  tab.on("pageerror", (error) => problems.push(error.message))
  await tab.goto(pageUrl)
  await tab.waitForFunction(() => "restoreBench" in globalThis)
  const cdp = values.profile === "" ? undefined : await context.newCDPSession(tab)
  if (cdp !== undefined) {
    await cdp.send("Profiler.enable")
    await cdp.send("Profiler.setSamplingInterval", { interval: 500 })
    await cdp.send("Profiler.start")
  }
  try {
    const figures = await tab.evaluate(([name, input]) => globalThis.restoreBench[name](input), [side, run])
    if (cdp !== undefined) {
      const { profile } = await cdp.send("Profiler.stop")
      mkdirSync(values.profile, { recursive: true })
      writeFileSync(join(values.profile, `${side}-${run.workers ?? "js"}-${run.deviceId}.cpuprofile`), JSON.stringify(profile))
    }
    return figures
  } catch (error) {
    throw new Error(`${side}: ${error.message}${problems.length > 0 ? ` (page: ${problems.join("; ")})` : ""}`, { cause: error })
  } finally {
    await context.close()
  }
}

await Promise.all([buildSides(), buildPage()])
const page = await servePage()
const browser = await chromium.launch({
  executablePath: values.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
})
const workers = Number(values.workers)
console.log(`Chromium ${browser.version()} (headless); each restore on a new device in a fresh tab, timed on the restore call`)
try {
  for (const count of values.sizes.split(",").map(Number)) {
    const { json: server, proc } = await side("RestoreBenchServer", [String(count), "1", "accounts"])
    console.log(`${fmt(count)} keys shaped like real accounts`)
    const sides = [
      { name: "ours, Web Crypto on the page's thread, IndexedDB", side: "ours", extra: { workers: 0 } },
      { name: `ours, Web Crypto on ${workers} Web Workers, IndexedDB`, side: "ours", extra: { workers } },
      { name: "matrix-js-sdk 43 restoreKeyBackup (Rust crypto, IndexedDB)", side: "jsSdk", extra: {} },
    ]
    const rates = []
    for (const { name, side, extra } of sides) {
      const r = await restoreIn(browser, page.url, side, { ...(await newDevice(server)), ...extra })
      const rate = r.keys / (r.ms / 1000)
      rates.push(rate)
      console.log(`  ${name.padEnd(60)} ${fmt(r.keys)} of ${fmt(r.total)} keys in ${fmt(r.ms)} ms = ${fmt(rate)} keys/s`)
    }
    const [thread, pool, js] = rates
    console.log(`  ratio over js-sdk: ${(thread / js).toFixed(1)}x on the page's thread, ${(pool / js).toFixed(1)}x on ${workers} Web Workers`)
    proc.stdin.end()
  }
} finally {
  await browser.close()
  page.close()
}
