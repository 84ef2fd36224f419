// The README's main command, end to end in a child process: embedded fake homeserver, backup, restore, checks.
import { describe, expect, it } from "vitest"
import { cli } from "./support.js"

describe("matrix-backup demo", () => {
  it("backs up and restores 500 keys and checks every one", { timeout: 120_000 }, async () => {
    const run = await cli(["demo", "--keys", "500", "--json"])
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.json).toMatchObject({ keys: 500, backedUp: 500, restored: 500, verified: 500, failures: {} })
    const seconds = run.json?.["seconds"]
    const rates = run.json?.["keysPerSecond"]
    expect(seconds).toMatchObject({ backup: expect.any(Number), restore: expect.any(Number) })
    expect(rates).toMatchObject({ backup: expect.any(Number), restore: expect.any(Number) })
    // stdout is the one JSON document; with --json and no terminal, no progress is printed anywhere.
    expect(run.stdout.trimEnd().split("\n")).toHaveLength(1)
  })

  it("decrypts on worker threads when asked", { timeout: 120_000 }, async () => {
    const run = await cli(["demo", "--keys", "300", "--threads", "2", "--json"])
    expect(run.stderr).toBe("")
    expect(run.json).toMatchObject({ keys: 300, restored: 300, verified: 300, failures: {} })
  })

  it("rejects a nonsensical key count with a usage error", async () => {
    const run = await cli(["demo", "--keys", "0", "--json"])
    expect(run.code).not.toBe(0)
    expect(run.json?.["error"]).toMatchObject({ code: "Usage" })
  })
})
