// Node worker_threads entry for the restore benchmark's decryption pool: serves DecryptWorker batches with the
// backend the benchmark names (RESTORE_BENCH_BACKEND: "node" for node:crypto, otherwise Web Crypto).
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { WorkerRunner } from "@effect/platform"
import { CryptoBackend, DecryptWorker, Entropy } from "@matrix-backup/core"
import { NodeCryptoBackend } from "@matrix-backup/crypto-node"
import { Layer } from "effect"

const backend = process.env.RESTORE_BENCH_BACKEND === "node" ? NodeCryptoBackend.layer : CryptoBackend.layer
WorkerRunner.launch(
  DecryptWorker.layerRunner.pipe(Layer.provide(NodeWorkerRunner.layer), Layer.provide(backend.pipe(Layer.provide(Entropy.layer)))),
).pipe(NodeRuntime.runMain)
