/**
 * The Promise facade: matrix-js-sdk's key-backup methods, names and result shapes (`KeyBackupCheck`,
 * `BackupTrustInfo`, `KeyBackupInfo`, null for none) and its `CryptoEvent` events, over a ManagedRuntime of the
 * composed services. Works in browsers, Node and tests; every rejection is a `KeyBackupClientError`.
 */
import { Effect, Exit, Fiber, ManagedRuntime, Option, Queue, Scope } from "effect"
import { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import type { SteadyStateOptions } from "../backup/KeyBackupEngine.js"
import { KeyBackupRestore } from "../restore/KeyBackupRestore.js"
import type { RestoreOptions } from "../restore/KeyBackupRestore.js"
import type { ImportRoomKeyProgressData, KeyBackupRestoreResult } from "../restore/RestoreError.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { unwrapExit } from "./ClientError.js"
import { type ClientServices, clientLayer, type KeyBackupClientOptions } from "./ClientLayer.js"
import { type CryptoEventListeners, makeListeners } from "./Listeners.js"
import { makeRecoveryMethods, type RecoveryMethods } from "./RecoveryMethods.js"
import { makeKeyStorageMethods, type KeyStorageMethods } from "./KeyStorageMethods.js"
import { type AddRoomKeysOptions, type BackupTrustInfo, fromExportedKeys, fromJsInfo, type KeyBackupCheck, type KeyBackupInfo, toJsCheck, toJsInfo } from "./Shapes.js"

export { CryptoEvent }
export { KeyBackupClientError } from "./ClientError.js"
export type { CryptoChoice, KeyBackupClientOptions } from "./ClientLayer.js"
export { type ClientStore, clientStore, type HomeserverConnection, homeserverConnection, memoryStore } from "./ClientPorts.js"
export type { DeviceIdentityOptions } from "./DeviceIdentity.js"
export type { CryptoEventListeners } from "./Listeners.js"
export { decodeRecoveryKey, encodeRecoveryKey } from "./RecoveryKeyText.js"
export type { BootstrapSecretStorageOpts, GeneratedSecretStorageKeyJs, SecretStorageAccess } from "./RecoveryMethods.js"
export type { KeyStorageDiagnosis, RepairKeyStorageOpts, RepairResult, SecretStorageKeyJs } from "./KeyStorageMethods.js"
export type { AddRoomKeysOptions, BackupTrustInfo, KeyBackupCheck, KeyBackupInfo } from "./Shapes.js"

/** matrix-js-sdk's `KeyBackupRestoreOpts`, plus an abort signal and an observer of skipped keys. */
export interface KeyBackupRestoreOpts {
  readonly progressCallback?: (progress: ImportRoomKeyProgressData) => void
  readonly signal?: AbortSignal
  /** Called with each backed-up key that is skipped (room, session, reason, version); exceptions are ignored. */
  readonly onFailure?: RestoreOptions["onFailure"]
}

/** The client. */
export interface KeyBackupClient extends RecoveryMethods, KeyStorageMethods {
  /** The server's backup and our trust in it (null: no backup); enables or disables uploads accordingly. */
  readonly checkKeyBackupAndEnable: () => Promise<KeyBackupCheck | null>
  readonly getKeyBackupInfo: () => Promise<KeyBackupInfo | null>
  readonly isKeyBackupTrusted: (info: KeyBackupInfo) => Promise<BackupTrustInfo>
  readonly getActiveSessionBackupVersion: () => Promise<string | null>
  /** Deletes every version and creates a new one (key cached, saved in 4S when set up); uploads start. */
  readonly resetKeyBackup: () => Promise<void>
  readonly deleteKeyBackupVersion: (version: string) => Promise<void>
  /** Hands room keys (exported form, e.g. js-sdk `IMegolmSessionData`) to the engine for upload. */
  readonly addRoomKeys: (keys: ReadonlyArray<unknown>, options?: AddRoomKeysOptions) => Promise<void>
  /** Resolves when nothing is pending for the active version; rejects with the reason it cannot get there. */
  readonly waitForBackupSteadyState: (options?: SteadyStateOptions) => Promise<void>
  readonly restoreKeyBackup: (opts?: KeyBackupRestoreOpts) => Promise<KeyBackupRestoreResult>
  readonly on: <K extends keyof CryptoEventListeners>(event: K, listener: CryptoEventListeners[K]) => void
  readonly off: <K extends keyof CryptoEventListeners>(event: K, listener: CryptoEventListeners[K]) => void
  /** Stops the upload loop and releases everything; later calls reject with `Interrupted`. */
  readonly stop: () => Promise<void>
}

/** Builds the services and starts the event relay. Rejects if a layer (e.g. the store) fails to build. */
export const createKeyBackupClient = async (options: KeyBackupClientOptions): Promise<KeyBackupClient> => {
  const runtime = ManagedRuntime.make(clientLayer(options))
  const call = <A, E>(effect: Effect.Effect<A, E, ClientServices>): Promise<A> => runtime.runPromiseExit(effect).then(unwrapExit)
  const listeners = makeListeners()
  // Building the layer (e.g. opening the store) happens here; on failure release what was built, then reject.
  const started = await call(
    Effect.flatMap(Scope.make(), (scope) =>
      Effect.map(Effect.flatMap(BackupEvents, (events) => Scope.extend(events.subscribe, scope)), (queue) => ({ scope, queue })),
    ),
  ).catch(async (error: unknown) => {
    await runtime.dispose()
    throw error
  })
  const { scope, queue } = started
  const relay = runtime.runFork(Effect.forever(Effect.map(Queue.take(queue), listeners.dispatch)))
  const engine = <A, E>(f: (engine: KeyBackupEngine["Type"]) => Effect.Effect<A, E>) => call(Effect.flatMap(KeyBackupEngine, f))
  // Like matrix-js-sdk at start-up: find the backup in the background so new keys get uploaded. Never fails.
  if (options.checkOnStart !== false) runtime.runFork(Effect.flatMap(KeyBackupEngine, (e) => e.checkKeyBackupAndEnable()))
  let stopped: Promise<void> | undefined

  return {
    checkKeyBackupAndEnable: () => engine((e) => Effect.map(e.checkKeyBackupAndEnable(true), (c) => Option.getOrNull(Option.map(c, toJsCheck)))),
    getKeyBackupInfo: () => engine((e) => Effect.map(e.getKeyBackupInfo(), (i) => Option.getOrNull(Option.map(i, toJsInfo)))),
    isKeyBackupTrusted: (info) => engine((e) => Effect.flatMap(fromJsInfo(info), e.isKeyBackupTrusted)),
    getActiveSessionBackupVersion: () => engine((e) => Effect.map(e.getActiveSessionBackupVersion(), Option.getOrNull)),
    resetKeyBackup: () => engine((e) => Effect.asVoid(e.resetKeyBackup())),
    deleteKeyBackupVersion: (version) => engine((e) => e.deleteKeyBackupVersion(version)),
    addRoomKeys: (keys, opts) => engine((e) => Effect.asVoid(Effect.flatMap(fromExportedKeys(keys, opts), e.addRoomKeys))),
    waitForBackupSteadyState: (opts) => engine((e) => e.waitForBackupSteadyState(opts)),
    restoreKeyBackup: (opts = {}) =>
      call(
        Effect.flatMap(KeyBackupRestore, (r) =>
          r.restoreKeyBackup({
            ...(opts.progressCallback === undefined ? {} : { onProgress: opts.progressCallback }),
            ...(opts.signal === undefined ? {} : { signal: opts.signal }),
            ...(opts.onFailure === undefined ? {} : { onFailure: opts.onFailure }),
          }),
        ),
      ),
    ...makeRecoveryMethods(call),
    ...makeKeyStorageMethods(call),
    on: listeners.on,
    off: listeners.off,
    stop: () =>
      (stopped ??= (async () => {
        await Effect.runPromise(Fiber.interrupt(relay))
        await runtime.runPromise(Scope.close(scope, Exit.void)).catch(() => undefined)
        await runtime.dispose()
      })()),
  }
}
