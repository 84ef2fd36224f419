/**
 * Decryption in browsers: core's Web Crypto backend on a pool of Web Workers (core's `DecryptWorker` over
 * `@effect/platform-browser`), or on the page's thread for 0 workers. Nothing here imports a Node module.
 */
import * as BrowserWorker from "@effect/platform-browser/BrowserWorker"
import { CryptoBackend, Entropy } from "@matrix-backup/core"
import { DecryptWorker } from "@matrix-backup/core/adapter"
import { Layer } from "effect"
import { decryptionThreads, defaultDecryptionThreads } from "./Layers.js"
import type { RestoreKeyBackupOpts } from "./Options.js"

/** Default decryption Web Workers: one fewer than the browser's logical cores, at least 1, at most 4. */
const defaultWorkers = (): number => defaultDecryptionThreads(globalThis.navigator?.hardwareConcurrency ?? 1)

/**
 * The worker script, next to this module in the build. Written as `new URL("…", import.meta.url)` inside
 * `new Worker(…)` so that bundlers (Vite, webpack, Parcel) find it and emit it with the page.
 */
const spawn = (entry: URL | undefined) => () =>
  entry === undefined
    ? new Worker(new URL("./DecryptWorkerBrowser.js", import.meta.url), { type: "module", name: "matrix-backup-decrypt" })
    : new Worker(entry, { type: "module", name: "matrix-backup-decrypt" })

/** The backend for `opts`: a Web Worker pool of `decryptionThreads`, or the page's thread for 0. */
export const layer = (opts: RestoreKeyBackupOpts): Layer.Layer<CryptoBackend.CryptoBackend> => {
  const workers = decryptionThreads(opts, defaultWorkers())
  const local = Layer.provide(CryptoBackend.layer, Entropy.layer)
  if (workers === 0) return local
  return DecryptWorker.layerPool({ size: workers }).pipe(
    Layer.provide(local),
    Layer.provide(BrowserWorker.layer(spawn(opts.workerEntry))),
    // A worker that cannot be spawned is a broken installation, not a typed error.
    Layer.orDie,
  )
}
