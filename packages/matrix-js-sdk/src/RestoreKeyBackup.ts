/**
 * matrix-js-sdk's `restoreKeyBackup` and `restoreKeyBackupWithPassphrase`, for a `MatrixClient`, on our restore:
 * the backup streams from the server, is decrypted on the platform's backend (given by the entry point), and goes
 * into the client's crypto batch by batch as backed-up keys (PROTOCOL.md §8.3, §8.4). Corrupt entries are skipped
 * and counted by reason.
 */
import { CryptoBackend, HomeserverApi, RestoreError, RestoreWithKey } from "@matrix-backup/core"
import { Cause, Effect, Exit, Option, Redacted } from "effect"
import type { MatrixClient } from "matrix-js-sdk"
import type { ClientAccess } from "./ClientAccess.js"
import { accessClient } from "./ClientAccess.js"
import * as JsSdkRoomKeySink from "./JsSdkRoomKeySink.js"
import type { BackendFor, BridgeServices } from "./Layers.js"
import type { OffThreadJob } from "./OffThreadRun.js"
import { bridgeLayer } from "./Layers.js"
import type { RestoreKeyBackupOpts, RestoreKeyBackupResult } from "./Options.js"
import { emptyProgress, Tally, toJsSdkProgress } from "./Progress.js"
import { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"

/** Keys per batch by default: js-sdk 43's `importBackedUpRoomKeys` measured fastest at 500 to 1,000 keys per call. */
export const DEFAULT_BATCH_SIZE = 1000

/** Restores version `version` (default the server's current one) with `privateKey` into the client's crypto. */
const restoreInto = (
  access: ClientAccess,
  privateKey: Redacted.Redacted<Uint8Array>,
  version: string | undefined,
  opts: RestoreKeyBackupOpts,
  tally: Tally,
): Effect.Effect<RestoreKeyBackupResult, RestoreError.RestoreError, BridgeServices> =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const backend = yield* CryptoBackend.CryptoBackend
    const { progressCallback, signal } = opts
    const result = yield* RestoreWithKey.restoreWithKey({ api, backend, sink: JsSdkRoomKeySink.make(access.crypto, tally) }, privateKey, {
      ...(version === undefined ? {} : { version }),
      batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE,
      ...(signal === undefined ? {} : { signal }),
      ...(progressCallback === undefined ? {} : { onProgress: (progress) => progressCallback(toJsSdkProgress(progress)) }),
      onFailure: (failure) => tally.failed(failure, opts.onFailure),
    })
    return { total: result.total, imported: result.imported, failures: result.failures, failed: result.failed }
  })

const fromRestoreError = (error: RestoreError.RestoreError, tally: Tally): RestoreKeyBackupError =>
  new RestoreKeyBackupError(error.reason === "StoreFailure" ? "ImportFailed" : error.reason, error.message, tally.progress(), error.version)

/** Runs `program` on the bridge's services; a typed failure becomes a `RestoreKeyBackupError`, a defect is rethrown. */
const run = async <A>(
  access: ClientAccess,
  backend: BackendFor,
  opts: RestoreKeyBackupOpts,
  tally: Tally,
  program: Effect.Effect<A, RestoreError.RestoreError, BridgeServices>,
): Promise<A> => {
  const exit = await Effect.runPromiseExit(Effect.provide(program, bridgeLayer(access, backend(opts))))
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) throw fromRestoreError(failure.value, tally)
  throw Cause.squash(exit.cause)
}

/** The two restores of one platform. */
export interface Restorers {
  /**
   * Restores the key backup into `client`'s crypto with the backup decryption key it holds (as js-sdk's own
   * `restoreKeyBackup`). The key is checked against the server's backup first: `DecryptionKeyDoesNotMatch`, with
   * nothing imported, when it does not match. Throws `RestoreKeyBackupError`, which says what was imported.
   */
  readonly restoreKeyBackup: (client: MatrixClient, opts?: RestoreKeyBackupOpts) => Promise<RestoreKeyBackupResult>
  /**
   * For legacy backups whose key derives from a passphrase: derives the key for the server's current backup, checks
   * it (`DecryptionKeyDoesNotMatch` for a wrong passphrase, `NotPassphraseBackup`), caches it in the client's crypto
   * with `storeSessionBackupPrivateKey` (as js-sdk does), then restores.
   */
  readonly restoreKeyBackupWithPassphrase: (client: MatrixClient, passphrase: string, opts?: RestoreKeyBackupOpts) => Promise<RestoreKeyBackupResult>
}

/** What an entry point brings: its decryption backend, and a way to run the restore on a worker (thread or Web Worker). */
export interface Platform {
  readonly backendFor: BackendFor
  readonly restoreOffThread: (access: ClientAccess, job: OffThreadJob, opts: RestoreKeyBackupOpts, tally: Tally) => Promise<RestoreKeyBackupResult>
}

/** The restores on `platform` (each entry point passes its own). */
export const makeRestorers = ({ backendFor, restoreOffThread }: Platform): Restorers => {
  /** Restores with `privateKey`: on a worker unless `opts.offThread` is false, else on this thread. */
  const restoreWith = (access: ClientAccess, privateKey: Redacted.Redacted<Uint8Array>, version: string | undefined, opts: RestoreKeyBackupOpts, tally: Tally) =>
    opts.offThread !== false
      ? restoreOffThread(access, { privateKey: Redacted.value(privateKey), version, batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE }, opts, tally)
      : run(access, backendFor, opts, tally, restoreInto(access, privateKey, version, opts, tally))

  const restoreKeyBackup = async (client: MatrixClient, opts: RestoreKeyBackupOpts = {}): Promise<RestoreKeyBackupResult> => {
    const access = accessClient(client)
    const key = await access.crypto.getSessionBackupPrivateKey()
    if (key === null) {
      throw new RestoreKeyBackupError("NoDecryptionKey", "No backup decryption key found in the client's crypto store", emptyProgress())
    }
    const tally = new Tally()
    try {
      return await restoreWith(access, Redacted.make(key), opts.backupVersion, opts, tally)
    } finally {
      key.fill(0)
    }
  }

  const restoreKeyBackupWithPassphrase = async (
    client: MatrixClient,
    passphrase: string,
    opts: RestoreKeyBackupOpts = {},
  ): Promise<RestoreKeyBackupResult> => {
    const access = accessClient(client)
    const tally = new Tally()
    const program = Effect.gen(function* () {
      const api = yield* HomeserverApi.HomeserverApi
      const backend = yield* CryptoBackend.CryptoBackend
      const target = yield* RestoreWithKey.derivePassphraseKey(api, backend, Redacted.make(passphrase))
      yield* Effect.tryPromise({
        try: () => access.crypto.storeSessionBackupPrivateKey(Uint8Array.from(Redacted.value(target.privateKey)), target.version),
        catch: () => new RestoreError.RestoreError({ reason: "StoreFailure", version: target.version, message: "matrix-js-sdk's crypto did not store the backup key" }),
      })
      return target
    })
    // Deriving the key runs here (on the backend without workers); the restore itself as `restoreKeyBackup`'s does.
    const target = await run(access, backendFor, { ...opts, decryptionThreads: 0 }, tally, program)
    return restoreWith(access, target.privateKey, target.version, opts, tally)
  }
  return { restoreKeyBackup, restoreKeyBackupWithPassphrase }
}
