/**
 * The facade's backup methods (matrix-js-sdk CryptoApi names and shapes): find, trust, create and delete a backup
 * version, hand room keys to the upload loop and wait until they are all on the server.
 */
import { type Context, Effect, Option } from "effect"
import { KeyBackupEngine, type SteadyStateOptions } from "../backup/KeyBackupEngine.js"
import type { Call } from "./ClientLayer.js"
import { type AddRoomKeysOptions, type BackupTrustInfo, fromExportedKeys, fromJsInfo, type KeyBackupCheck, type KeyBackupInfo, toJsCheck, toJsInfo } from "./Shapes.js"

/** The methods this module adds to the client. */
export interface BackupMethods {
  /** The server's backup and our trust in it (null: no backup); enables or disables uploads accordingly. */
  readonly checkKeyBackupAndEnable: () => Promise<KeyBackupCheck | null>
  /** The server's current backup version (null: none), without enabling anything. */
  readonly getKeyBackupInfo: () => Promise<KeyBackupInfo | null>
  /** Whether this device trusts `info` (a signature it trusts, or the decryption key it holds), with per-signer detail. */
  readonly isKeyBackupTrusted: (info: KeyBackupInfo) => Promise<BackupTrustInfo>
  /** The version uploads go to (null: uploads are off). */
  readonly getActiveSessionBackupVersion: () => Promise<string | null>
  /**
   * Deletes every version and creates a new one (key cached, saved in 4S when set up); uploads start. Needs the
   * device's signing key: without it, rejects with `code: "NoSigningKey"` before deleting anything.
   */
  readonly resetKeyBackup: () => Promise<void>
  /** Deletes one backup version from the server; uploads stop when it was the active one. */
  readonly deleteKeyBackupVersion: (version: string) => Promise<void>
  /** Hands room keys (exported form, e.g. js-sdk `IMegolmSessionData`) to the engine for upload. */
  readonly addRoomKeys: (keys: ReadonlyArray<unknown>, options?: AddRoomKeysOptions) => Promise<void>
  /** Resolves when nothing is pending for the active version; rejects with the reason it cannot get there. */
  readonly waitForBackupSteadyState: (options?: SteadyStateOptions) => Promise<void>
}

/** Builds the methods over the client's `call`. */
export const makeBackupMethods = (call: Call): BackupMethods => {
  const engine = <A, E>(f: (engine: Context.Tag.Service<KeyBackupEngine>) => Effect.Effect<A, E>) => call(Effect.flatMap(KeyBackupEngine, f))
  return {
    checkKeyBackupAndEnable: () => engine((e) => Effect.map(e.checkKeyBackupAndEnable(true), (c) => Option.getOrNull(Option.map(c, toJsCheck)))),
    getKeyBackupInfo: () => engine((e) => Effect.map(e.getKeyBackupInfo(), (i) => Option.getOrNull(Option.map(i, toJsInfo)))),
    isKeyBackupTrusted: (info) => engine((e) => Effect.flatMap(fromJsInfo(info), e.isKeyBackupTrusted)),
    getActiveSessionBackupVersion: () => engine((e) => Effect.map(e.getActiveSessionBackupVersion(), Option.getOrNull)),
    resetKeyBackup: () => engine((e) => Effect.asVoid(e.resetKeyBackup())),
    deleteKeyBackupVersion: (version) => engine((e) => e.deleteKeyBackupVersion(version)),
    addRoomKeys: (keys, opts) => engine((e) => Effect.asVoid(Effect.flatMap(fromExportedKeys(keys, opts), e.addRoomKeys))),
    waitForBackupSteadyState: (opts) => engine((e) => e.waitForBackupSteadyState(opts)),
  }
}
