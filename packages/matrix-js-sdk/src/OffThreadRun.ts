/**
 * The calling thread's side of a restore on a worker (Node worker thread or Web Worker): the worker downloads, parses
 * and decrypts; this thread only imports each batch it receives into js-sdk's crypto (whose OlmMachine lives here),
 * answers, and relays progress and skipped keys. So imports are not slowed by the rest of the restore, which runs on
 * other cores. The platform starts the worker (`StartThread`).
 */
import type { RestoreError } from "@matrix-backup/core"
import { Option, Schema } from "effect"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"
import type { ClientAccess } from "./ClientAccess.js"
import type { RestoreKeyBackupOpts, RestoreKeyBackupResult } from "./Options.js"
import type { Tally } from "./Progress.js"
import { toJsSdkProgress } from "./Progress.js"
import { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"
import type { RestoreJob, ToWorker } from "./RestoreWorkerMessages.js"
import { FromWorker } from "./RestoreWorkerMessages.js"

const decodeFromWorker = Schema.decodeUnknownOption(FromWorker)

/** What the calling thread needs of a started worker. */
export interface RestoreThread {
  readonly post: (message: ToWorker) => void
  readonly terminate: () => void
}

/** What a worker reports to the calling thread. */
export interface ThreadEvents {
  readonly onMessage: (raw: unknown) => void
  readonly onError: (error: unknown) => void
  readonly onExit: () => void
}

/** Starts a worker running `job` (the platform's part). */
export type StartThread = (job: RestoreJob, opts: RestoreKeyBackupOpts, events: ThreadEvents) => RestoreThread

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
  private readonly thread: RestoreThread
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
    start: StartThread,
    private readonly access: ClientAccess,
    job: OffThreadJob,
    private readonly opts: RestoreKeyBackupOpts,
    private readonly tally: Tally,
    private readonly resolve: (result: RestoreKeyBackupResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.progress = new ProgressRelay(tally, opts.progressCallback)
    this.thread = start(jobFor(access, job, opts), opts, {
      onMessage: (raw) => Option.map(decodeFromWorker(raw), (message) => this.onMessage(message)),
      onError: (error) => this.settle(() => reject(error)),
      onExit: () => this.settle(() => reject(new Error("The restore worker stopped without an answer"))),
    })
    if (opts.signal?.aborted === true) this.onAbort()
    else opts.signal?.addEventListener("abort", this.onAbort, { once: true })
  }

  private send(message: ToWorker): void {
    this.thread.post(message)
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
      this.thread.terminate()
    })
  }
}

/** A restore on workers that `start` starts; it rejects with `RestoreKeyBackupError` saying what was imported. */
export const offThread =
  (start: StartThread) =>
  (access: ClientAccess, job: OffThreadJob, opts: RestoreKeyBackupOpts, tally: Tally): Promise<RestoreKeyBackupResult> =>
    new Promise((resolve, reject) => void new OffThreadRun(start, access, job, opts, tally, resolve, reject))
