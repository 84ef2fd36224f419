// The progress line shows the upload loop's retries: how many, when the next one is and what the server said; and a
// total not known yet as such.
import { KeyBackupEngine } from "@matrix-backup/core"
import { describe, expect, it } from "vitest"
import { retryNote } from "../src/backup/Upload.js"
import { barLine, plainLine } from "../src/Progress.js"

describe("retries in the progress line", () => {
  it("a failed upload reads as the retry count, the wait and the server's answer", () => {
    const failed = KeyBackupEngine.BackupState.Error({ reason: "UploadFailed", version: "1", status: 500, errcode: "M_UNKNOWN", failures: 3, retryInMs: 4000 })
    expect(retryNote(failed)).toBe("retry 3 in 4 s (HTTP 500 M_UNKNOWN)")
    const limited = KeyBackupEngine.BackupState.Error({ reason: "RateLimited", version: "1", status: 429, failures: 1, retryInMs: 200 })
    expect(retryNote(limited)).toBe("retry 1 in 1 s (HTTP 429)")
    expect(retryNote(KeyBackupEngine.BackupState.Error({ reason: "UploadRejected", version: "1", status: 400 }))).toBeUndefined()
  })

  it("the note follows the counts, and a narrow bar still fits the terminal", () => {
    expect(plainLine("import", 250, 600, 125, "retry 2 in 2 s (HTTP 500)")).toBe("import: 250/600 keys (41%), 125 keys/s; retry 2 in 2 s (HTTP 500)")
    expect(plainLine("import", 250, 600, 125)).toBe("import: 250/600 keys (41%), 125 keys/s")
    const wide = barLine("import", 250, 600, 125, 120, "retry 2 in 2 s")
    expect(wide.endsWith("125 keys/s  retry 2 in 2 s")).toBe(true)
    expect(barLine("import", 250, 600, 125, 40, "retry 2 in 2 s").length).toBeLessThanOrEqual(39)
  })

  it("a total not known yet reads as a count so far, never as 0/0 (100%)", () => {
    expect(plainLine("restore", 0, undefined, 0)).toBe("restore: 0 keys so far, 0 keys/s")
    expect(barLine("restore", 1200, undefined, 300, 80)).toBe("restore 1,200 keys so far  300 keys/s")
  })
})
