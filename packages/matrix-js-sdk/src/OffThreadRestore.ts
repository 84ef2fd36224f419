/**
 * The calling thread's side of a restore on a worker thread (Node): the worker downloads, parses and decrypts; this
 * thread only imports each batch it receives into js-sdk's crypto (whose OlmMachine lives here), answers, and relays
 * progress and skipped keys. So imports are not slowed by the rest of the restore, which runs on other cores.
 */
import { Option, Schema } from "effect"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"
import { Worker } from "node:worker_threads"
import type { ClientAccess } from "./ClientAccess.js"
import type { RestoreKeyBackupOpts, RestoreKeyBackupResult } from "./Options.js"
import type { Tally } from "./Progress.js"
import { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"
import type { RestoreJob, ToWorker } from "./RestoreWorkerMessages.js"
import { FromWorker } from "./RestoreWorkerMessages.js"
import { toJsSdkProgress } from "./Progress.js"

/** The worker script, next to this module in the published build. */
const defaultEntry = new URL("./RestoreWorkerMain.js", import.meta.url)

/**
 * V8 heap limits of the restore thread, in MB. Its live data is a few batches in flight (a few MB); without limits V8
 * lets a thread's heap grow far past that, and peak memory is what a restore of a large backup must keep low.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 }
const decodeFromWorker = Schema.decodeUnknownOption(FromWorker)

/** What the restore needs besides the client: the key, the version (default the server's current) and the batch size. */
export interface OffThreadJob {
  readonly privateKey: Uint8Array
  readonly version: string | undefined
  readonly batchSize: number
}

const jobFor = (access: ClientAccess, { privateKey, version, batchSize }: OffThreadJob, opts: RestoreKeyBackupOpts): RestoreJob => ({
  baseUrl: access.baseUrl,
  accessToken: access.accessToken,
  userId: access.userId,
  privateKey: Uint8Array.from(privateKey),
  batchSize,
  ...(version === undefined ? {} : { version }),
  ...(opts.decryptionThreads === undefined ? {} : { decryptionThreads: opts.decryptionThreads }),
  ...(opts.workerEntry === undefined ? {} : { decryptWorkerEntry: opts.workerEntry.href }),
})

/** Runs one restore on a worker thread; rejects with `RestoreKeyBackupError` saying what was imported. */
export const restoreOffThread = (access: ClientAccess, job: OffThreadJob, opts: RestoreKeyBackupOpts, tally: Tally): Promise<RestoreKeyBackupResult> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(opts.restoreWorkerEntry ?? defaultEntry, { workerData: jobFor(access, job, opts), resourceLimits: RESOURCE_LIMITS })
    const send = (message: ToWorker) => worker.postMessage(message)
    let aborted = false
    let refused = false
    const onAbort = () => {
      aborted = true
      send({ _tag: "Abort" })
    }
    // Imports run one after another, in the order the batches came.
    let imports = Promise.resolve()
    let settled = false
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      opts.signal?.removeEventListener("abort", onAbort)
      // An import in flight finishes first, so what the outcome reports as imported is exact.
      void imports.then(() => {
        outcome()
        void worker.terminate()
      })
    }
    let total = 0
    let failures = 0
    let last = ""
    /** Calls `progressCallback` with the current counts, unless they are the ones it was last called with. */
    const report = (stage: "fetch" | "load_keys") => {
      const progress = stage === "fetch" ? { stage } : { stage, total, successes: tally.imported, failures }
      const key = JSON.stringify(progress)
      if (key === last) return
      last = key
      try {
        opts.progressCallback?.(toJsSdkProgress(progress))
      } catch {
        // A throwing progress callback must not break the restore.
      }
    }
    const importBatch = (id: number, version: string, keys: ReadonlyArray<IMegolmSessionData>) =>
      access.crypto.importBackedUpRoomKeys([...keys], version).then(
        () => {
          tally.imported += keys.length
          send({ _tag: "Imported", id, ok: true })
          report("load_keys")
        },
        () => {
          refused = true
          send({ _tag: "Imported", id, ok: false })
        },
      )
    const onMessage = (message: FromWorker) => {
      switch (message._tag) {
        case "Progress":
          // The worker counts a batch once it is handed over; the count reported is what js-sdk has imported.
          if (message.progress.stage === "load_keys") ({ total, failures } = message.progress)
          return report(message.progress.stage)
        case "Failure":
          return tally.failed(message, opts.onFailure)
        case "Batch": {
          if (aborted || refused) return
          const { id, version, keys } = message
          // Once aborted or refused, no further batch is imported (the worker stops without an answer for it).
          imports = imports.then(() => (aborted || refused ? undefined : importBatch(id, version, keys)))
          return
        }
        case "Done":
          return settle(() => resolve({ total: message.total, imported: tally.imported, failures: message.failures, failed: message.failed }))
        case "Stopped": {
          const reason = message.reason === "StoreFailure" ? "ImportFailed" : message.reason
          return settle(() => reject(new RestoreKeyBackupError(reason, message.message, tally.progress(), message.version)))
        }
        case "Crashed":
          return settle(() => reject(new Error(message.message)))
      }
    }
    worker.on("message", (raw: unknown) => Option.map(decodeFromWorker(raw), onMessage))
    worker.on("error", (error) => settle(() => reject(error)))
    worker.on("exit", () => settle(() => reject(new Error("The restore worker stopped without an answer"))))
    if (opts.signal?.aborted === true) onAbort()
    else opts.signal?.addEventListener("abort", onAbort, { once: true })
  })
