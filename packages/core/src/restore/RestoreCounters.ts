/**
 * Running totals of one restore and the progress reports they produce (js-sdk's `load_keys` stage):
 * `total` starts at the server's count and ends as the number of sessions actually seen.
 */
import type { FailedEntry } from "./DecryptEntries.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult } from "./RestoreError.js"
import { emptyFailureCounts, MAX_LISTED_FAILURES, totalFailures } from "./RestoreError.js"

/** Mutable counters, touched by one pipeline stage at a time. */
export class RestoreCounters {
  private seen = 0
  private skipped = 0
  private importedCount = 0
  private readonly failures = emptyFailureCounts()
  private readonly failed: Array<FailedEntry> = []

  constructor(
    private readonly expected: number,
    private readonly every: number,
    private readonly sink: (progress: ImportRoomKeyProgressData) => void,
  ) {}

  /** Counts one streamed session; a session of an already restored room is skipped (reported every `every`). */
  admit(isNew: boolean): boolean {
    this.seen++
    if (!isNew) {
      this.skipped++
      if (this.skipped % this.every === 0) this.report()
    }
    return isNew
  }

  /** Counts per-key failures of a batch and lists the first `MAX_LISTED_FAILURES`. */
  addFailures(failed: ReadonlyArray<FailedEntry>): void {
    for (const entry of failed) {
      this.failures[entry.reason]++
      if (this.failed.length < MAX_LISTED_FAILURES) this.failed.push(entry)
    }
  }

  /** Counts a stored batch and reports. */
  imported(count: number): void {
    this.importedCount += count
    this.report()
  }

  /** Counts a batch the store refused and reports (the run stops after this). */
  storeFailed(count: number): void {
    this.failures.StoreFailure += count
    this.report()
  }

  /** Reports the current state; `total` never falls below what was seen. */
  report(): void {
    this.sink({
      stage: "load_keys",
      total: Math.max(this.expected, this.seen),
      successes: this.importedCount + this.skipped,
      failures: totalFailures(this.failures),
    })
  }

  /** The final report (with `total` corrected to the sessions seen) and the result. */
  finish(): KeyBackupRestoreResult {
    const failures = { ...this.failures }
    this.sink({ stage: "load_keys", total: this.seen, successes: this.importedCount + this.skipped, failures: totalFailures(failures) })
    return { total: this.seen, imported: this.importedCount, skipped: this.skipped, failures, failed: [...this.failed] }
  }
}
