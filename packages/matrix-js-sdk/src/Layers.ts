/**
 * The services a bridge restore runs on: the fetch HomeserverApi with the client's URL and token, and node:crypto
 * decryption on worker threads (or on the calling thread). Browsers would need a Web Crypto backend instead.
 */
import type { CryptoBackend, HomeserverApi } from "@matrix-backup/core"
import { Entropy, Ids } from "@matrix-backup/core"
import { NodeCryptoBackend, NodeDecryptPool } from "@matrix-backup/crypto-node"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { Layer, Redacted } from "effect"
import { availableParallelism } from "node:os"
import type { ClientAccess } from "./ClientAccess.js"
import type { RestoreKeyBackupOpts } from "./Options.js"

/** Everything a restore needs. */
export type BridgeServices = HomeserverApi.HomeserverApi | CryptoBackend.CryptoBackend

/**
 * Default worker threads: the cores available, at most 4. A restore keeps at most 4 batches in decryption at once
 * (core's `DEFAULT_CONCURRENCY`), so more threads would sit idle.
 */
export const DEFAULT_DECRYPTION_THREADS = Math.min(4, availableParallelism())

/** The backend: a worker pool of `decryptionThreads`, or in-thread for 0. */
const backendLayer = (opts: RestoreKeyBackupOpts): Layer.Layer<CryptoBackend.CryptoBackend> => {
  const threads = Math.max(0, Math.floor(opts.decryptionThreads ?? DEFAULT_DECRYPTION_THREADS))
  const backend =
    threads === 0
      ? NodeCryptoBackend.layer
      : NodeDecryptPool.layer({ size: threads, ...(opts.workerEntry === undefined ? {} : { entry: opts.workerEntry }) })
  return Layer.provide(backend, Entropy.layer)
}

/** The services for `access` and `opts`. */
export const bridgeLayer = (access: ClientAccess, opts: RestoreKeyBackupOpts): Layer.Layer<BridgeServices> =>
  Layer.merge(
    FetchHomeserverApi.layerFetch({
      baseUrl: access.baseUrl,
      accessToken: Redacted.make(access.accessToken),
      userId: Ids.UserId.make(access.userId),
    }),
    backendLayer(opts),
  )
