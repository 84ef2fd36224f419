/**
 * The calling thread's side of a restore on a worker thread (Node): the worker downloads, parses and decrypts; this
 * thread only imports each batch it receives into js-sdk's crypto (whose OlmMachine lives here), answers, and relays
 * progress and skipped keys. So imports are not slowed by the rest of the restore, which runs on other cores.
 */
import type { RestoreError } from "@matrix-backup/core"
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

/** js-sdk's progress as the calling thread sees it: counts only what js-sdk has imported, reported once per change. */
class ProgressRelay {
  private total = 0
  private failures = 0
  private last = ""

  constructor(
    private readonly tally: Tally,
    private readonly callback: RestoreKeyBackupOpts["progressCallback"],
  ) {}

  /** Takes the worker's report: its total and failures; its successes count batches handed over, not imported. */
  fromWorker(progress: RestoreError.ImportRoomKeyProgressData): void {
    if (progress.stage === "load_keys") ({ total: this.total, failures: this.failures } = progress)
    this.report(progress.stage)
  }

  /** Calls the callback with the current counts, unless they are the ones it was last called with. */
  report(stage: "fetch" | "load_keys"): void {
    const progress = stage === "fetch" ? { stage } : { stage, total: this.total, successes: this.tally.imported, failures: this.failures }
    const key = JSON.stringify(progress)
    if (key === this.last) return
    this.last = key
    try {
      this.callback?.(toJsSdkProgress(progress))
    } catch {
      // A throwing progress callback must not break the restore.
    }
  }
}

/** One restore on a worker thread, seen from the calling thread. */
class OffThreadRun {
  private readonly worker: Worker
  private readonly progress: ProgressRelay
  /** Imports run one after another, in the order the batches came. */
  private imports = Promise.resolve()
  /** Once aborted or refused, no further batch is imported (the worker stops without an answer for it). */
  private stopping = false
  private settled = false
  private readonly onAbort = () => {
    this.stopping = true
    this.send({ _tag: "Abort" })
  }

  constructor(
    private readonly access: ClientAccess,
    job: OffThreadJob,
    private readonly opts: RestoreKeyBackupOpts,
    private readonly tally: Tally,
    private readonly resolve: (result: RestoreKeyBackupResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.progress = new ProgressRelay(tally, opts.progressCallback)
    this.worker = new Worker(opts.restoreWorkerEntry ?? defaultEntry, { workerData: jobFor(access, job, opts), resourceLimits: RESOURCE_LIMITS })
    this.worker.on("message", (raw: unknown) => Option.map(decodeFromWorker(raw), (message) => this.onMessage(message)))
    this.worker.on("error", (error) => this.settle(() => reject(error)))
    this.worker.on("exit", () => this.settle(() => reject(new Error("The restore worker stopped without an answer"))))
    if (opts.signal?.aborted === true) this.onAbort()
    else opts.signal?.addEventListener("abort", this.onAbort, { once: true })
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message)
  }

  private onMessage(message: FromWorker): void {
    switch (message._tag) {
      case "Progress":
        return this.progress.fromWorker(message.progress)
      case "Failure":
        return this.tally.failed(message, this.opts.onFailure)
      case "Batch": {
        const { id, version, keys } = message
        this.imports = this.imports.then(() => (this.stopping ? undefined : this.importBatch(id, version, keys)))
        return
      }
      case "Done": {
        const { total, failures, failed } = message
        return this.settle(() => this.resolve({ total, imported: this.tally.imported, failures, failed }))
      }
      case "Stopped": {
        const error = new RestoreKeyBackupError(
          message.reason === "StoreFailure" ? "ImportFailed" : message.reason,
          message.message,
          this.tally.progress(),
          message.version,
        )
        return this.settle(() => this.reject(error))
      }
      case "Crashed":
        return this.settle(() => this.reject(new Error(message.message)))
    }
  }

  private importBatch(id: number, version: string, keys: ReadonlyArray<IMegolmSessionData>): Promise<void> {
    return this.access.crypto.importBackedUpRoomKeys([...keys], version).then(
      () => {
        this.tally.imported += keys.length
        this.send({ _tag: "Imported", id, ok: true })
        this.progress.report("load_keys")
      },
      () => {
        this.stopping = true
        this.send({ _tag: "Imported", id, ok: false })
      },
    )
  }

  /** Ends the run once: after the import in flight (so what the outcome reports as imported is exact). */
  private settle(outcome: () => void): void {
    if (this.settled) return
    this.settled = true
    this.opts.signal?.removeEventListener("abort", this.onAbort)
    void this.imports.then(() => {
      outcome()
      void this.worker.terminate()
    })
  }
}

/** Runs one restore on a worker thread; rejects with `RestoreKeyBackupError` saying what was imported. */
export const restoreOffThread = (access: ClientAccess, job: OffThreadJob, opts: RestoreKeyBackupOpts, tally: Tally): Promise<RestoreKeyBackupResult> =>
  new Promise((resolve, reject) => void new OffThreadRun(access, job, opts, tally, resolve, reject))
