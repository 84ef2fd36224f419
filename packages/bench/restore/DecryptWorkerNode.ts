// Node worker_threads entry for the restore benchmark's Web Crypto decryption pool (the node:crypto pool runs
// @matrix-backup/crypto-node's own worker entry).
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { WorkerRunner } from "@effect/platform"
import { CryptoBackend, Entropy } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { Layer } from "effect"

WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(Layer.provide(NodeWorkerRunner.layer), Layer.provide(CryptoBackend.layer.pipe(Layer.provide(Entropy.layer)))),
).pipe(NodeRuntime.runMain)
