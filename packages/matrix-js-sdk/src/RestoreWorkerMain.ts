/**
 * Entry point of the restore worker thread (Node): runs core's restore (download, parsing, decryption on its own
 * decryption threads) and hands each decrypted batch to the calling thread, which imports it into js-sdk's crypto.
 * At most two batches are unanswered at once, so the calling thread always has the next one and memory stays bounded.
 */
import { CryptoBackend, HomeserverApi, RestoreWithKey, RoomKeySink } from "@matrix-backup/core"
import type { Context } from "effect"
import { Cause, Effect, Exit, Option, Redacted, Schema } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { toSessionData } from "./JsSdkRoomKeySink.js"
import { bridgeLayer } from "./Layers.js"
import * as NodeBackend from "./NodeBackend.js"
import type { FromWorker } from "./RestoreWorkerMessages.js"
import { RestoreJob, ToWorker } from "./RestoreWorkerMessages.js"

const port = parentPort
if (port === null) throw new Error("RestoreWorkerMain runs as a worker thread")
const job = Schema.decodeUnknownSync(RestoreJob)(workerData)
const post = (message: FromWorker) => port.postMessage(message)
const abort = new AbortController()
const answers = new Map<number, (ok: boolean) => void>()
const decodeToWorker = Schema.decodeUnknownOption(ToWorker)

port.on("message", (raw: unknown) => {
  const message = decodeToWorker(raw)
  if (Option.isNone(message)) return
  if (message.value._tag === "Abort") return abort.abort()
  const { id, ok } = message.value
  answers.get(id)?.(ok)
  answers.delete(id)
})

/**
 * Batches handed over but not yet answered, oldest first. With two, the next batch already waits on the calling
 * thread while js-sdk imports one, so its imports follow each other without a gap; memory stays bounded by two.
 */
const MAX_UNANSWERED = 2
const unanswered: Array<Promise<boolean>> = []
let nextBatch = 0

const refused = () => new RoomKeySink.RoomKeySinkError({ message: "matrix-js-sdk's crypto refused a batch of room keys" })

/** Waits for the oldest unanswered batch; fails if js-sdk refused it. */
const oldestAnswered = Effect.suspend(() => {
  const oldest = unanswered.shift()
  return oldest === undefined ? Effect.void : Effect.flatMap(Effect.promise(() => oldest), (ok) => (ok ? Effect.void : Effect.fail(refused())))
})

/** The sink: hands each batch to the calling thread; a refusal fails the restore at the next batch or at the end. */
const sink: Context.Tag.Service<RoomKeySink.RoomKeySink> = {
  completedRooms: () => Effect.succeed(new Set<string>()),
  importBatch: ({ keys, version }) =>
    keys.length === 0
      ? Effect.void
      : Effect.suspend(() => {
          const id = nextBatch++
          unanswered.push(new Promise<boolean>((resolve) => answers.set(id, resolve)))
          post({ _tag: "Batch", id, version, keys: keys.map(toSessionData) })
          return unanswered.length >= MAX_UNANSWERED ? oldestAnswered : Effect.void
        }),
  restoreFinished: () => Effect.repeat(oldestAnswered, { while: () => unanswered.length > 0 }),
}

const program = Effect.gen(function* () {
  const api = yield* HomeserverApi.HomeserverApi
  const backend = yield* CryptoBackend.CryptoBackend
  return yield* RestoreWithKey.restoreWithKey({ api, backend, sink }, Redacted.make(job.privateKey), {
    ...(job.version === undefined ? {} : { version: job.version }),
    batchSize: job.batchSize,
    signal: abort.signal,
    onProgress: (progress) => post({ _tag: "Progress", progress }),
    onFailure: (failure) => post({ _tag: "Failure", ...failure }),
  })
})

const backend = NodeBackend.layer({
  ...(job.decryptionThreads === undefined ? {} : { decryptionThreads: job.decryptionThreads }),
  ...(job.decryptWorkerEntry === undefined ? {} : { workerEntry: new URL(job.decryptWorkerEntry) }),
})
const exit = await Effect.runPromiseExit(Effect.provide(program, bridgeLayer(job, backend)))
job.privateKey.fill(0)
if (Exit.isSuccess(exit)) {
  const { total, imported, failures, failed } = exit.value
  post({ _tag: "Done", total, imported, failures, failed })
} else {
  const failure = Cause.failureOption(exit.cause)
  post(
    Option.isSome(failure)
      ? { _tag: "Stopped", reason: failure.value.reason, message: failure.value.message, ...(failure.value.version === undefined ? {} : { version: failure.value.version }) }
      : { _tag: "Crashed", message: "The restore worker failed unexpectedly" },
  )
}
port.close()
