/**
 * Running totals the bridge keeps beside the restore, so a failed or aborted restore can still say what it imported
 * and which keys it skipped.
 */
import { RestoreError } from "@matrix-backup/core"
import { ImportRoomKeyStage } from "matrix-js-sdk/lib/crypto-api/index.js"
import type { ImportRoomKeyProgressData } from "matrix-js-sdk/lib/crypto-api/index.js"
import type { FailedKey } from "./Options.js"
import type { RestoreProgress } from "./RestoreKeyBackupError.js"

/** Nothing imported, nothing failed. */
export const emptyProgress = (): RestoreProgress => ({ imported: 0, failures: RestoreError.emptyFailureCounts() })

/** Mutable totals: keys the client's crypto accepted, and skipped keys by reason. */
export class Tally {
  imported = 0
  private readonly failures = RestoreError.emptyFailureCounts()

  /** Counts a skipped key and passes it on to the caller's observer (whose exceptions are ignored). */
  failed(failure: FailedKey, observer: ((failure: FailedKey) => void) | undefined): void {
    this.failures[failure.reason]++
    try {
      observer?.(failure)
    } catch {
      // An observer that throws must not break the restore.
    }
  }

  /** A snapshot. */
  progress(): RestoreProgress {
    return { imported: this.imported, failures: { ...this.failures } }
  }
}

/** Core's progress report as js-sdk's `ImportRoomKeyProgressData`. */
export const toJsSdkProgress = (progress: RestoreError.ImportRoomKeyProgressData): ImportRoomKeyProgressData =>
  progress.stage === "fetch"
    ? { stage: ImportRoomKeyStage.Fetch }
    : { stage: ImportRoomKeyStage.LoadKeys, total: progress.total, successes: progress.successes, failures: progress.failures }
