// Browser restore benchmark, a decryption Web Worker: serves core's DecryptWorker requests with core's Web Crypto backend.
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as BrowserRuntime from "@effect/platform-browser/BrowserRuntime"
import * as BrowserWorkerRunner from "@effect/platform-browser/BrowserWorkerRunner"
import { CryptoBackend, Entropy } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { Layer } from "effect"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(
    Layer.provide(BrowserWorkerRunner.layer),
    Layer.provide(CryptoBackend.layer.pipe(Layer.provide(Entropy.layer))),
  ),
).pipe(BrowserRuntime.runMain)
