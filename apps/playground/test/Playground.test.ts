// The built page in Debian's Chromium (playwright-core), against the fake homeserver on loopback HTTP:
// create a backup, back up keys, sign in as a new device, paste the recovery key, restore, check the result.
import { RecoveryKey } from "@matrix-backup/core"
import { mistypedRecoveryKey, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveStatic, type StaticServer } from "@matrix-backup/testkit/StaticServer"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const CHROMIUM = process.env["CHROMIUM_PATH"] || "/usr/bin/chromium"
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

let homeserver: RunningFakeHomeserver
let page: StaticServer
let browser: Browser

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "index.html"))) throw new Error("Build the playground first (pnpm run build)")
  homeserver = await startFakeHomeserver()
  page = await serveStatic(join(root, "dist"))
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
})

afterAll(async () => {
  await browser?.close()
  await page?.stop()
  await homeserver?.stop()
})

/** Clicks a step's button and waits until the page marks the step done. */
const runStep = async (tab: Page, button: string, step: string): Promise<void> => {
  await tab.click(`#${button}`)
  await tab.waitForSelector(`#step-${step}.done`)
}

/** Pastes the recovery key, restores, and returns the result panel's text once the restore is done. */
const restoreWith = async (tab: Page, recoveryKey: string): Promise<string> => {
  await tab.fill("#recovery-input", recoveryKey)
  await tab.click("#restore")
  await tab.waitForSelector("#result[data-state=done]")
  return (await tab.textContent("#result")) ?? ""
}

describe("playground in Chromium", () => {
  it("backs up 1,000 keys and restores them on a new device with the pasted recovery key", async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 1300 }, deviceScaleFactor: 1 })
    const tab = await context.newPage()
    const problems: Array<string> = []
    tab.on("pageerror", (error) => problems.push(error.message))
    await tab.goto(`${page.url}/?homeserver=${encodeURIComponent(homeserver.url)}`)

    await runStep(tab, "create-account", "account")
    await runStep(tab, "create-backup", "backup")
    const recoveryKey = (await tab.textContent("#recovery-key")) ?? ""
    expect(recoveryKey).toMatch(/^Es[A-Za-z0-9]{2}( [A-Za-z0-9]{4}){11}$/)

    await tab.fill("#key-count", "1000")
    await runStep(tab, "backup-keys", "keys")
    const userId = ((await tab.textContent("#account-out")) ?? "").match(/@[^ ]+:[^ ]+(?= on)/)?.[0] ?? ""
    const versions = (await homeserver.admin.backupVersions(userId)).filter((v) => !v.deleted)
    const version = versions.at(-1)?.version ?? ""
    expect(await homeserver.admin.roomKeys(userId, version)).toHaveLength(1000)

    await runStep(tab, "new-device", "device")
    const result = await restoreWith(tab, recoveryKey)
    expect(result).toContain("1,000keys in the backup")
    expect(result).toContain("1,000restored")
    expect(result).toContain("1,000 / 1,000identical to the originals")
    expect(result).toContain("Failures by reason: none")
    expect(await tab.isHidden("#error")).toBe(true)
    expect(problems).toEqual([])

    mkdirSync(join(root, "test-results"), { recursive: true })
    await tab.screenshot({ path: join(root, "test-results", "playground-restore.png"), fullPage: true })
    await context.close()
  })

  it("restores on Web Workers when asked, with the same result", async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    const problems: Array<string> = []
    tab.on("pageerror", (error) => problems.push(error.message))
    await tab.goto(`${page.url}/?homeserver=${encodeURIComponent(homeserver.url)}&workers=2`)
    await runStep(tab, "create-account", "account")
    await runStep(tab, "create-backup", "backup")
    const recoveryKey = (await tab.textContent("#recovery-key")) ?? ""
    await tab.fill("#key-count", "600")
    await runStep(tab, "backup-keys", "keys")
    await runStep(tab, "new-device", "device")
    expect(await tab.textContent("#device-out")).toContain("decrypting on 2 Web Workers")
    const result = await restoreWith(tab, recoveryKey)
    expect(result).toContain("600 / 600identical to the originals")
    expect(result).toContain("Failures by reason: none")
    // The pool's workers run the bundled decryption entry.
    const workers = tab.workers().map((worker) => worker.url())
    expect(workers.length).toBe(2)
    expect(workers.every((url) => url.includes("DecryptWorkerMain"))).toBe(true)
    expect(problems).toEqual([])
    await context.close()
  })

  it("says when a recovery key is wrong or mistyped, without showing it", async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    await tab.goto(`${page.url}/?homeserver=${encodeURIComponent(homeserver.url)}`)
    await runStep(tab, "create-account", "account")
    await runStep(tab, "create-backup", "backup")
    await tab.fill("#key-count", "10")
    await runStep(tab, "backup-keys", "keys")
    await runStep(tab, "new-device", "device")
    const wrong = RecoveryKey.encodeRecoveryKey(randomBytes(32))
    await tab.fill("#recovery-input", wrong)
    await tab.click("#restore")
    await tab.waitForSelector("#error:not([hidden])")
    const message = (await tab.textContent("#error")) ?? ""
    expect(message).toBe("That recovery key does not open this account's Secret Storage.")
    expect(message).not.toContain(wrong.slice(0, 9))
    await tab.fill("#recovery-input", mistypedRecoveryKey(wrong, -1))
    await tab.click("#restore")
    await tab.waitForFunction(() => document.getElementById("error")?.textContent?.startsWith("That is not a valid recovery key"))
    await context.close()
  })

  it("shows a new device's key storage drift and repairs it with the recovery key", async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    const problems: Array<string> = []
    tab.on("pageerror", (error) => problems.push(error.message))
    await tab.goto(`${page.url}/?homeserver=${encodeURIComponent(homeserver.url)}`)
    await runStep(tab, "create-account", "account")
    await runStep(tab, "create-backup", "backup")
    const recoveryKey = (await tab.textContent("#recovery-key")) ?? ""
    await tab.fill("#key-count", "20")
    await runStep(tab, "backup-keys", "keys")
    const lines = async (button: string) => {
      await tab.click(`#${button}`)
      await tab.waitForSelector("#health[data-state]")
      const items = await tab.$$eval("#health li", (li) => li.map((item) => [item.dataset["kind"] ?? "", item.dataset["action"] ?? ""]))
      // The parts of key storage (action "None") are core's lines, as `doctor` prints them; drifts and steps carry an action.
      expect(items.filter(([, action]) => action === "None").map(([kind]) => kind)).toEqual(["Summary", "Preference", "Backup", "Device", "SecretStorage", "Uploads"])
      return { state: await tab.getAttribute("#health", "data-state"), items: items.filter(([, action]) => action !== "None") }
    }
    expect(await lines("diagnose")).toEqual({ state: "healthy", items: [] })

    await runStep(tab, "new-device", "device")
    expect(await lines("diagnose")).toEqual({
      state: "drift",
      items: [["BackupNotTrusted", "EnterRecoveryKey"], ["BackupKeyNotCached", "EnterRecoveryKey"]],
    })
    await tab.fill("#recovery-input", recoveryKey)
    expect(await lines("repair")).toEqual({
      state: "healthy",
      items: [["OpenSecretStorage", "Done"], ["CacheKeyFromSecretStorage", "Done"], ["UploadPendingKeys", "Done"]],
    })
    expect(await tab.textContent("#health")).not.toContain(recoveryKey.slice(0, 9))
    expect(await tab.isHidden("#error")).toBe(true)
    expect(problems).toEqual([])
    await context.close()
  })
})
