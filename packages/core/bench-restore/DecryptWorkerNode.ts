// Node worker_threads entry for the restore benchmark's decryption pool: serves DecryptWorker batches with the
// Web Crypto backend.
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { WorkerRunner } from "@effect/platform"
import { CryptoBackend, DecryptWorker, Entropy } from "@matrix-backup/core"
import { Layer } from "effect"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(Layer.provide(NodeWorkerRunner.layer), Layer.provide(CryptoBackend.layer.pipe(Layer.provide(Entropy.layer)))),
).pipe(NodeRuntime.runMain)
