/** Entry point of a decryption worker thread: serves core's `DecryptWorker` requests with the local CryptoBackend. */
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { CryptoBackend, DecryptWorker, Entropy } from "@matrix-backup/core"
import { Layer } from "effect"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(
    Layer.provide(NodeWorkerRunner.layer),
    Layer.provide(CryptoBackend.layer.pipe(Layer.provide(Entropy.layer))),
  ),
).pipe(NodeRuntime.runMain)
