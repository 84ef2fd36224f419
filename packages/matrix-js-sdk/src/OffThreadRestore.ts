/** Starts the restore on a Node worker thread (`RestoreWorkerMain`), for `OffThreadRun`. */
import { Worker } from "node:worker_threads"
import { offThread } from "./OffThreadRun.js"
import type { StartThread } from "./OffThreadRun.js"

/** The worker script, next to this module in the published build. */
const defaultEntry = new URL("./RestoreWorkerMain.js", import.meta.url)

/**
 * V8 heap limits of the restore thread, in MB. Its live data is a few batches in flight (a few MB); without limits V8
 * lets a thread's heap grow far past that, and peak memory is what a restore of a large backup must keep low.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 }

const startNodeThread: StartThread = (job, opts, events) => {
  const worker = new Worker(opts.restoreWorkerEntry ?? defaultEntry, { workerData: job, resourceLimits: RESOURCE_LIMITS })
  worker.on("message", events.onMessage)
  worker.on("error", events.onError)
  worker.on("exit", events.onExit)
  return { post: (message) => worker.postMessage(message), terminate: () => void worker.terminate() }
}

/** Runs one restore on a worker thread; rejects with `RestoreKeyBackupError` saying what was imported. */
export const restoreOffThread = offThread(startNodeThread)
