/**
 * Entry point of the restore Web Worker (browsers): waits for its job, then runs it (`RestoreWorkerRun`), decrypting
 * with Web Crypto on its own Web Workers (`DecryptWorkerBrowser`, next to this script).
 */
import { Option, Schema } from "effect"
import * as BrowserBackend from "./BrowserBackend.js"
import { ToWorker } from "./RestoreWorkerMessages.js"
import { runRestoreJob } from "./RestoreWorkerRun.js"

/** The worker's global scope, as much of it as is used here. */
const scope: { postMessage: (message: unknown) => void; addEventListener: (type: "message", listener: (event: MessageEvent) => void) => void } = self
const decode = Schema.decodeUnknownOption(ToWorker)

const onStart = (event: MessageEvent): void => {
  const message = decode(event.data)
  if (Option.isNone(message) || message.value._tag !== "Start") return
  void runRestoreJob(
    message.value.job,
    { post: (m) => scope.postMessage(m), onMessage: (handler) => scope.addEventListener("message", (e) => handler(e.data)) },
    BrowserBackend.layer,
  )
}
scope.addEventListener("message", onStart)
