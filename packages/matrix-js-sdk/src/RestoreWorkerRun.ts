/**
 * What a restore worker runs, on any platform: core's restore (download, parsing, decryption on the backend it is
 * given), handing each decrypted batch to the calling thread, which imports it into js-sdk's crypto and answers. At
 * most two batches are unanswered at once, so the calling thread always has the next one and memory stays bounded.
 */
import type { RestoreError } from "@matrix-backup/core"
import { CryptoBackend, HomeserverApi, RestoreWithKey, RoomKeySink } from "@matrix-backup/core"
import type { Context } from "effect"
import { Cause, Effect, Exit, Option, Redacted, Schema } from "effect"
import { toSessionData } from "./JsSdkRoomKeySink.js"
import type { BackendFor } from "./Layers.js"
import { bridgeLayer } from "./Layers.js"
import type { RestoreKeyBackupOpts } from "./Options.js"
import type { FromWorker, RestoreJob } from "./RestoreWorkerMessages.js"
import { ToWorker } from "./RestoreWorkerMessages.js"

/** The worker's end of the channel to the calling thread. */
export interface CallingThread {
  readonly post: (message: FromWorker) => void
  readonly onMessage: (handler: (raw: unknown) => void) => void
}

const MAX_UNANSWERED = 2
const decodeToWorker = Schema.decodeUnknownOption(ToWorker)
const refused = () => new RoomKeySink.RoomKeySinkError({ message: "matrix-js-sdk's crypto refused a batch of room keys" })

/** A sink that hands batches to the calling thread; a refusal fails the restore at the next batch or at the end. */
const handOverSink = (caller: CallingThread, answers: Map<number, (ok: boolean) => void>): Context.Tag.Service<RoomKeySink.RoomKeySink> => {
  const unanswered: Array<Promise<boolean>> = []
  let nextBatch = 0
  const oldestAnswered = Effect.suspend(() => {
    const oldest = unanswered.shift()
    return oldest === undefined ? Effect.void : Effect.flatMap(Effect.promise(() => oldest), (ok) => (ok ? Effect.void : Effect.fail(refused())))
  })
  return {
    completedRooms: () => Effect.succeed(new Set<string>()),
    importBatch: ({ keys, version }) =>
      keys.length === 0
        ? Effect.void
        : Effect.suspend(() => {
            const id = nextBatch++
            unanswered.push(new Promise<boolean>((resolve) => answers.set(id, resolve)))
            caller.post({ _tag: "Batch", id, version, keys: keys.map(toSessionData) })
            return unanswered.length >= MAX_UNANSWERED ? oldestAnswered : Effect.void
          }),
    restoreFinished: () => Effect.repeat(oldestAnswered, { while: () => unanswered.length > 0 }),
  }
}

/** The decryption options the job carries, as the platform's backend takes them. */
const backendOpts = ({ decryptionThreads, decryptWorkerEntry }: RestoreJob): RestoreKeyBackupOpts => ({
  ...(decryptionThreads === undefined ? {} : { decryptionThreads }),
  ...(decryptWorkerEntry === undefined ? {} : { workerEntry: new URL(decryptWorkerEntry) }),
})

/** Runs `job` with decryption on the platform's backend (`backendFor`), then posts its outcome. Never rejects. */
export const runRestoreJob = async (job: RestoreJob, caller: CallingThread, backendFor: BackendFor): Promise<void> => {
  const abort = new AbortController()
  const answers = new Map<number, (ok: boolean) => void>()
  caller.onMessage((raw) => {
    const message = decodeToWorker(raw)
    if (Option.isNone(message)) return
    if (message.value._tag === "Abort") return abort.abort()
    if (message.value._tag !== "Imported") return
    const { id, ok } = message.value
    answers.get(id)?.(ok)
    answers.delete(id)
  })
  const sink = handOverSink(caller, answers)
  const program = Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const crypto = yield* CryptoBackend.CryptoBackend
    return yield* RestoreWithKey.restoreWithKey({ api, backend: crypto, sink }, Redacted.make(job.privateKey), {
      ...(job.version === undefined ? {} : { version: job.version }),
      batchSize: job.batchSize,
      signal: abort.signal,
      onProgress: (progress) => caller.post({ _tag: "Progress", progress }),
      onFailure: (failure) => caller.post({ _tag: "Failure", ...failure }),
    })
  })
  const exit = await Effect.runPromiseExit(Effect.provide(program, bridgeLayer(job, backendFor(backendOpts(job)))))
  job.privateKey.fill(0)
  caller.post(outcome(exit))
}

const outcome = (exit: Exit.Exit<RestoreError.KeyBackupRestoreResult, RestoreError.RestoreError>): FromWorker => {
  if (Exit.isSuccess(exit)) {
    const { total, imported, failures, failed } = exit.value
    return { _tag: "Done", total, imported, failures, failed }
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return { _tag: "Crashed", message: "The restore worker failed unexpectedly" }
  const { reason, message, version } = failure.value
  return { _tag: "Stopped", reason, message, ...(version === undefined ? {} : { version }) }
}
