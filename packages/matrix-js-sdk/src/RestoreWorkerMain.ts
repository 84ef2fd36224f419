/**
 * Entry point of the restore worker thread (Node): runs the restore job it was started with (`RestoreWorkerRun`),
 * decrypting with node:crypto on its own pool of decryption threads.
 */
import { Schema } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import * as NodeBackend from "./NodeBackend.js"
import { RestoreJob } from "./RestoreWorkerMessages.js"
import { runRestoreJob } from "./RestoreWorkerRun.js"

const port = parentPort
if (port === null) throw new Error("RestoreWorkerMain runs as a worker thread")
const job = Schema.decodeUnknownSync(RestoreJob)(workerData)
await runRestoreJob(job, { post: (message) => port.postMessage(message), onMessage: (handler) => port.on("message", handler) }, NodeBackend.layer)
port.close()
