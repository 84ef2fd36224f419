/**
 * The Promise facade: matrix-js-sdk's key-backup methods, names and result shapes (`KeyBackupCheck`,
 * `BackupTrustInfo`, `KeyBackupInfo`, null for none) and its `CryptoEvent` events, over a ManagedRuntime of the
 * composed services. Works in browsers, Node and tests; every rejection is a `KeyBackupClientError`.
 */
import { Effect, Exit, Fiber, ManagedRuntime, Queue, Scope } from "effect"
import { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { type BackupMethods, makeBackupMethods } from "./BackupMethods.js"
import { unwrapExit } from "./ClientError.js"
import { type Call, clientLayer, type KeyBackupClientOptions } from "./ClientLayer.js"
import { ClientEvent, type CryptoEventListeners, makeListeners } from "./Listeners.js"
import { makeKeyStorageMethods, type KeyStorageMethods } from "./KeyStorageMethods.js"
import { makeRecoveryMethods, type RecoveryMethods } from "./RecoveryMethods.js"
import { makeRestoreMethods, type RestoreMethods } from "./RestoreMethods.js"
import { makeRoomKeyTransferMethods, type RoomKeyTransferMethods } from "./RoomKeyTransfer.js"
import { makeStatusMethods, recoveryStateFeed, type StatusMethods } from "./StatusMethods.js"

export { ClientEvent, CryptoEvent }
export { KeyBackupClientError, type MatrixErrorData } from "./ClientError.js"
export type { CryptoChoice, KeyBackupClientOptions } from "./ClientLayer.js"
export { type ClientStore, clientStore, type HomeserverConnection, homeserverConnection, memoryStore } from "./ClientPorts.js"
export type { DeviceIdentityOptions } from "./DeviceIdentity.js"
export type { ClientEventName, CryptoEventListeners } from "./Listeners.js"
export { decodeRecoveryKey, encodeRecoveryKey } from "./RecoveryKeyText.js"
export type { CrossSigningKeys } from "../secret-storage/CrossSigningSecrets.js"
export type { KeyStorageDiagnosis, RepairKeyStorageOpts, RepairResult, SecretStorageKeyJs } from "./KeyStorageMethods.js"
export type { BootstrapSecretStorageOpts, GeneratedSecretStorageKeyJs, SecretStorageAccess } from "./RecoveryMethods.js"
export type { NotReadyReason, RecoveryStateJs } from "./RecoveryStateJs.js"
export type { KeyBackupRestoreOpts } from "./RestoreMethods.js"
export type { ImportRoomKeysOpts } from "./RoomKeyTransfer.js"
export type { AddRoomKeysOptions, BackupTrustInfo, KeyBackupCheck, KeyBackupInfo } from "./Shapes.js"
export type { SecretStorageStatus } from "./StatusMethods.js"

/** The client. */
export interface KeyBackupClient extends BackupMethods, RestoreMethods, RecoveryMethods, StatusMethods, RoomKeyTransferMethods, KeyStorageMethods {
  /** Calls `listener` on every `event` (a `CryptoEvent` or `ClientEvent` value) until `off`. */
  readonly on: <K extends keyof CryptoEventListeners>(event: K, listener: CryptoEventListeners[K]) => void
  /** Calls `listener` on the next `event` only. */
  readonly once: <K extends keyof CryptoEventListeners>(event: K, listener: CryptoEventListeners[K]) => void
  /** Removes a listener added with `on` or `once`. */
  readonly off: <K extends keyof CryptoEventListeners>(event: K, listener: CryptoEventListeners[K]) => void
  /** Stops the upload loop and releases everything (closes the store); later calls reject with `Interrupted`. */
  readonly stop: () => Promise<void>
}

/** Builds the services and starts the event relay. Rejects if a layer (e.g. the store) fails to build. */
export const createKeyBackupClient = async (options: KeyBackupClientOptions): Promise<KeyBackupClient> => {
  const runtime = ManagedRuntime.make(clientLayer(options))
  const call: Call = (effect) => runtime.runPromiseExit(effect).then(unwrapExit)
  // Building the layer (e.g. opening the store) happens here; on failure release what was built, then reject.
  const scope = await call(Scope.make()).catch(async (error: unknown) => {
    await runtime.dispose()
    throw error
  })
  // The recovery state is read (over the network) only once someone listens for its changes.
  const listeners = makeListeners((name) => {
    if (name === ClientEvent.RecoveryStateChanged) runtime.runFork(Effect.forkIn(recoveryStateFeed((state) => listeners.emit(name, state)), scope))
  })
  const queue = await call(Effect.flatMap(BackupEvents, (events) => Scope.extend(events.subscribe, scope)))
  const relay = runtime.runFork(Effect.forever(Effect.map(Queue.take(queue), listeners.dispatch)))
  // Like matrix-js-sdk at start-up: find the backup in the background so new keys get uploaded. Never fails.
  if (options.checkOnStart !== false) runtime.runFork(Effect.flatMap(KeyBackupEngine, (e) => e.checkKeyBackupAndEnable()))
  let stopped: Promise<void> | undefined

  return {
    ...makeBackupMethods(call),
    ...makeRestoreMethods(call),
    ...makeRecoveryMethods(call),
    ...makeKeyStorageMethods(call),
    ...makeStatusMethods(call),
    ...makeRoomKeyTransferMethods(call),
    on: listeners.on,
    once: listeners.once,
    off: listeners.off,
    stop: () =>
      (stopped ??= (async () => {
        await Effect.runPromise(Fiber.interrupt(relay))
        await runtime.runPromise(Scope.close(scope, Exit.void)).catch(() => undefined)
        await runtime.dispose()
      })()),
  }
}
