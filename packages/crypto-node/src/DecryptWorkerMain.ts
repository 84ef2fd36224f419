/** Entry point of a decryption worker thread: serves core's `DecryptWorker` requests with the node:crypto backend. */
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { DecryptWorker, Entropy } from "@matrix-backup/core"
import { Layer } from "effect"
import * as NodeCryptoBackend from "./NodeCryptoBackend.js"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(
    Layer.provide(NodeWorkerRunner.layer),
    Layer.provide(NodeCryptoBackend.layer.pipe(Layer.provide(Entropy.layer))),
  ),
).pipe(NodeRuntime.runMain)
