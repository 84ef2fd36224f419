/** Starts the restore on a Web Worker (`RestoreWorkerBrowser`), for `OffThreadRun`. */
import { offThread } from "./OffThreadRun.js"
import type { StartThread } from "./OffThreadRun.js"

/** Written as `new URL("…", import.meta.url)` inside `new Worker(…)`, the form bundlers find and emit. */
const spawn = (entry: URL | undefined) =>
  entry === undefined
    ? new Worker(new URL("./RestoreWorkerBrowser.js", import.meta.url), { type: "module", name: "matrix-backup-restore" })
    : new Worker(entry, { type: "module", name: "matrix-backup-restore" })

const startWebWorker: StartThread = (job, opts, events) => {
  const worker = spawn(opts.restoreWorkerEntry)
  worker.addEventListener("message", (event) => events.onMessage(event.data))
  worker.addEventListener("error", (event) => events.onError(new Error(event.message || "The restore worker failed to load")))
  worker.addEventListener("messageerror", () => events.onError(new Error("A message from the restore worker could not be read")))
  // A Web Worker gets no start data: the job is its first message.
  worker.postMessage({ _tag: "Start", job })
  return { post: (message) => worker.postMessage(message), terminate: () => worker.terminate() }
}

/** Runs one restore on a Web Worker; rejects with `RestoreKeyBackupError` saying what was imported. */
export const restoreOffThread = offThread(startWebWorker)
