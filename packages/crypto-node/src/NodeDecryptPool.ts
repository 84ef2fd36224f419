/**
 * Backup decryption fanned out over Node worker threads, each running the node:crypto backend: core's
 * `DecryptWorker` pool with the Node spawner and this package's worker entry. Everything but decryption runs on the
 * caller's thread with the node:crypto backend.
 */
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import type { CryptoBackend, Entropy } from "@matrix-backup/core"
import { Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import * as NodeCryptoBackend from "./NodeCryptoBackend.js"

/** Options of the pool. */
export interface Options {
  /** Worker threads; defaults to the cores available. */
  readonly size?: number
  /**
   * V8 young-generation limit per worker, in MB (default 2). A worker's live data is one batch, so a small young
   * generation keeps each thread's memory low at no measured cost: a 100k-key restore on two workers peaks about
   * 27 MB lower with 2 than with 8, at the same speed.
   */
  readonly youngGenerationMb?: number
  /**
   * V8 old-generation limit per worker, in MB (default 64). A worker holds at most one request of
   * `DecryptWorker.MAX_ITEMS_PER_REQUEST` sessions (about 1 MB) besides its code, so 64 MB leaves ample room. V8
   * lets a heap grow further past its live data the higher its limit is (the default is gigabytes on machines with
   * much memory). Measured on a 100k-key restore on two workers: peak RSS 298 MB without a limit, 273 MB with 64, at
   * the same speed.
   */
  readonly oldGenerationMb?: number
  /** Requests each worker holds at once (default 2; see core's `DecryptWorker.PoolOptions`). */
  readonly requestsPerWorker?: number
  /** The worker script; defaults to the bundled `DecryptWorkerMain.js` of this package's build (bundlers may relocate it). */
  readonly entry?: URL
}

/** The worker entry, next to this module in the published build. */
const defaultEntry = new URL("./DecryptWorkerMain.js", import.meta.url)

/** `CryptoBackend` whose `decryptSessions` runs on `size` worker threads; needs `Entropy`. */
export const layer = (options: Options = {}): Layer.Layer<CryptoBackend.CryptoBackend, never, Entropy.Entropy> => {
  const size = Math.max(1, Math.floor(options.size ?? availableParallelism()))
  const resourceLimits = { maxYoungGenerationSizeMb: options.youngGenerationMb ?? 2, maxOldGenerationSizeMb: options.oldGenerationMb ?? 64 }
  const entry = options.entry ?? defaultEntry
  // The platform's pool retries a worker that fails to load forever; a missing script is caught here instead.
  const checked = Layer.effectDiscard(
    existsSync(fileURLToPath(entry)) ? Effect.void : Effect.dieMessage("The decryption worker script is missing from this installation"),
  )
  return DecryptWorker.layerPool({ size, requestsPerWorker: options.requestsPerWorker }).pipe(
    Layer.provide(checked),
    Layer.provide(NodeCryptoBackend.layer),
    Layer.provide(NodeWorker.layer(() => new Worker(entry, { resourceLimits }))),
    // Spawning a worker fails only on a broken installation (missing entry file): a defect, not a typed error.
    Layer.orDie,
  )
}
