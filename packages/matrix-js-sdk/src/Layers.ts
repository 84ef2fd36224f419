/**
 * The services a bridge restore runs on: the fetch HomeserverApi with the client's URL and token, and the platform's
 * decryption backend (node:crypto on worker threads in Node, Web Crypto on Web Workers in browsers), which each
 * entry point (`index.ts`, `index.browser.ts`) supplies.
 */
import type { CryptoBackend, HomeserverApi } from "@matrix-backup/core"
import { Ids } from "@matrix-backup/core"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { Layer, Redacted } from "effect"
import type { ClientAccess } from "./ClientAccess.js"
import type { RestoreKeyBackupOpts } from "./Options.js"

/** Everything a restore needs. */
export type BridgeServices = HomeserverApi.HomeserverApi | CryptoBackend.CryptoBackend

/** The platform's decryption backend for a restore's options. */
export type BackendFor = (opts: RestoreKeyBackupOpts) => Layer.Layer<CryptoBackend.CryptoBackend>

/**
 * Default decryption workers for `cores` cores: one fewer (at least 1), since the calling thread (importing) and the
 * restore's own thread (downloading, parsing) keep about one core busy; at most 4, since a restore keeps at most 4
 * batches in decryption at once (core's `DEFAULT_CONCURRENCY`). On 2 cores, 100k keys restored at 7,400-7,700
 * keys/s with 1 decryption thread and 6,400 with 2 (README's benchmark).
 */
export const defaultDecryptionThreads = (cores: number): number => Math.max(1, Math.min(4, cores - 1))

/** The worker count `opts` asks for (0: decrypt on the calling thread), given the platform's default. */
export const decryptionThreads = (opts: RestoreKeyBackupOpts, platformDefault: number): number =>
  Math.max(0, Math.floor(opts.decryptionThreads ?? platformDefault))

/** The services for `access`, decrypting with `backend`. */
export const bridgeLayer = (access: Pick<ClientAccess, "baseUrl" | "accessToken" | "userId">, backend: Layer.Layer<CryptoBackend.CryptoBackend>): Layer.Layer<BridgeServices> =>
  Layer.merge(
    FetchHomeserverApi.layerFetch({
      baseUrl: access.baseUrl,
      accessToken: Redacted.make(access.accessToken),
      userId: Ids.UserId.make(access.userId),
    }),
    backend,
  )
