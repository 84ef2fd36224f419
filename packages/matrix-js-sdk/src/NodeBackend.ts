/** Decryption in Node: node:crypto on a pool of worker threads, or on the calling thread for 0 threads. */
import type { CryptoBackend } from "@matrix-backup/core"
import { Entropy } from "@matrix-backup/core"
import { NodeCryptoBackend, NodeDecryptPool } from "@matrix-backup/crypto-node"
import { Layer } from "effect"
import { availableParallelism } from "node:os"
import { decryptionThreads, defaultDecryptionThreads } from "./Layers.js"
import type { RestoreKeyBackupOpts } from "./Options.js"

/** Default decryption threads in Node: one fewer than the cores available, at least 1, at most 4. */
const DEFAULT_DECRYPTION_THREADS = defaultDecryptionThreads(availableParallelism())

/** The backend for `opts`: a worker pool of `decryptionThreads`, or in-thread for 0. */
export const layer = (opts: RestoreKeyBackupOpts): Layer.Layer<CryptoBackend.CryptoBackend> => {
  const threads = decryptionThreads(opts, DEFAULT_DECRYPTION_THREADS)
  const backend =
    threads === 0
      ? NodeCryptoBackend.layer
      : NodeDecryptPool.layer({ size: threads, ...(opts.workerEntry === undefined ? {} : { entry: opts.workerEntry }) })
  return Layer.provide(backend, Entropy.layer)
}
