/** Entry point of a decryption worker thread: serves core's `DecryptWorker` requests with the node:crypto backend. */
// Module paths, not package indexes: a worker loads only what it runs (the platform-node index pulls in an HTTP
// client and server), which keeps each thread's memory small.
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Entropy } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { Layer } from "effect"
import * as NodeCryptoBackend from "./NodeCryptoBackend.js"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(
    Layer.provide(NodeWorkerRunner.layer),
    Layer.provide(NodeCryptoBackend.layer.pipe(Layer.provide(Entropy.layer))),
  ),
).pipe(NodeRuntime.runMain)
