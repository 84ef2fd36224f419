/**
 * Where recovery stands, for Promise users: js-sdk's `getSecretStorageStatus` (exactly which required secrets are
 * stored under the default key) and the recovery state with its change feed.
 */
import { Effect, Stream } from "effect"
import { Recovery } from "../secret-storage/Recovery.js"
import type { SecretStorageStatus } from "../secret-storage/RecoveryStatus.js"
import type { Call, ClientServices } from "./ClientLayer.js"
import { type RecoveryStateJs, toRecoveryStateJs } from "./RecoveryStateJs.js"

export type { SecretStorageStatus }

/** The methods this module adds to the client. */
export interface StatusMethods {
  /**
   * js-sdk's `SecretStorageStatus`: `secretStorageKeyValidityMap` says, for the three cross-signing secrets and (while
   * uploads are on) `m.megolm_backup.v1`, whether each is stored under the default key; `ready` when all are.
   */
  readonly getSecretStorageStatus: () => Promise<SecretStorageStatus>
  /** The recovery state, computed now (reads account data and the server's backup; never prompts for a key). */
  readonly getRecoveryState: () => Promise<RecoveryStateJs>
}

/** Builds the methods over the client's `call`. */
export const makeStatusMethods = (call: Call): StatusMethods => ({
  getSecretStorageStatus: () => call(Effect.flatMap(Recovery, (r) => r.getSecretStorageStatus())),
  getRecoveryState: () => call(Effect.flatMap(Recovery, (r) => Effect.map(r.recoveryState, toRecoveryStateJs))),
})

/**
 * Feeds the current recovery state, then every change, to `emit`; run it forked, interrupt to stop. The current
 * state comes first so a change that lands while the feed starts is never missed.
 */
export const recoveryStateFeed = (emit: (state: RecoveryStateJs) => void): Effect.Effect<void, never, ClientServices> =>
  Effect.flatMap(Recovery, (r) => Stream.runForEach(r.recoveryStateChanges, (state) => Effect.sync(() => emit(toRecoveryStateJs(state)))))
