/**
 * Which backup version uploads go to, and the engine's state: every enable, switch and disable goes through here
 * (one at a time), is persisted in the store and publishes `KeyBackupStatus` like matrix-js-sdk (PROTOCOL.md §8.1).
 * Each activation gets a new epoch, so work started for an older one can tell it is stale.
 */
import { Effect, Option, Ref, Schema, SubscriptionRef } from "effect"
import { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { BackupVersion } from "../schema/Ids.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { BackupState, type DisabledReason } from "./BackupState.js"

/** The backup uploads currently go to. */
export interface ActiveBackup {
  readonly epoch: number
  readonly version: BackupVersion
  readonly publicKey: Uint8Array
  readonly info: KeyBackupInfo
}

const encodeInfo = Schema.encodeEither(KeyBackupInfo)

/** Builds the activation holder. `onChange` runs after every enable/switch/disable (the loop stops stale work). */
export const makeActivation = Effect.gen(function* () {
  const events = yield* BackupEvents
  const store = yield* BackupStore
  const state = yield* SubscriptionRef.make<BackupState>(BackupState.Unknown())
  const active = yield* Ref.make(Option.none<ActiveBackup>())
  const epochs = yield* Ref.make(0)
  const lock = yield* Effect.makeSemaphore(1)
  const listeners: Array<Effect.Effect<void>> = []
  const status = (enabled: boolean) => events.publish({ name: CryptoEvent.KeyBackupStatus, enabled })

  const persist = (next: Option.Option<ActiveBackup>) =>
    store
      .setBackupState({
        activeVersion: Option.match(next, { onNone: () => null, onSome: (a) => a.version }),
        backupInfo: Option.match(next, { onNone: () => null, onSome: (a) => encodeInfo(a.info).pipe(Option.getRight, Option.getOrNull) }),
      })
      // The persisted copy is informational (a restart re-checks); a write failure must not block the switch.
      .pipe(Effect.catchAll((error) => Effect.logWarning(`Could not persist the backup state: ${error.reason}`)))

  const changed = Effect.forEach(listeners, (listener) => listener, { discard: true })

  /** Enables uploads to `info` (or switches to it). False when it is already the active version with this key. */
  const enable = (info: KeyBackupInfo & { readonly version: BackupVersion }, publicKey: Uint8Array) =>
    lock.withPermits(1)(
      Effect.gen(function* () {
        const previous = yield* Ref.get(active)
        if (Option.isSome(previous) && previous.value.version === info.version && sameKey(previous.value.publicKey, publicKey)) {
          return false
        }
        const epoch = yield* Ref.updateAndGet(epochs, (n) => n + 1)
        const next = Option.some({ epoch, version: info.version, publicKey, info })
        yield* Ref.set(active, next)
        yield* persist(next)
        yield* SubscriptionRef.set(state, BackupState.Enabled({ version: info.version }))
        // A switch is a disable then an enable, as in matrix-js-sdk.
        if (Option.isSome(previous)) yield* status(false)
        yield* status(true)
        yield* changed
        return true
      }),
    )

  /** Turns uploads off; `KeyBackupStatus(false)` only when they were on. */
  const disable = (reason: DisabledReason, version?: string, currentVersion?: string) =>
    lock.withPermits(1)(
      Effect.gen(function* () {
        const previous = yield* Ref.getAndSet(active, Option.none())
        yield* Ref.update(epochs, (n) => n + 1)
        if (Option.isSome(previous)) yield* persist(Option.none())
        yield* SubscriptionRef.set(
          state,
          BackupState.Disabled({ reason, ...(version === undefined ? {} : { version }), ...(currentVersion === undefined ? {} : { currentVersion }) }),
        )
        if (Option.isSome(previous)) yield* status(false)
        yield* changed
      }),
    )

  /** Sets the state on behalf of work for `epoch`; ignored when that activation is no longer current. */
  const setStateFor = (epoch: number, next: BackupState) =>
    lock.withPermits(1)(
      Effect.flatMap(Ref.get(epochs), (current) => (current === epoch ? SubscriptionRef.set(state, next) : Effect.void)),
    )

  /** Sets the state when uploads are not enabled (checks report through this). */
  const setStateIfInactive = (next: BackupState) =>
    lock.withPermits(1)(Effect.flatMap(Ref.get(active), (a) => (Option.isNone(a) ? SubscriptionRef.set(state, next) : Effect.void)))

  return {
    state,
    current: Ref.get(active),
    isCurrent: (epoch: number) => Effect.map(Ref.get(epochs), (current) => current === epoch),
    enable,
    disable,
    setStateFor,
    setStateIfInactive,
    /** Registers work to run after every change (called once while the engine is built). */
    onChange: (listener: Effect.Effect<void>) => Effect.sync(() => void listeners.push(listener)),
  }
})

/** The activation holder's shape. */
export type Activation = Effect.Effect.Success<typeof makeActivation>

const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i])
