/**
 * `on`/`once`/`off` for the facade: listeners per event name, called with matrix-js-sdk's payloads for its
 * `CryptoEvent`s (`enabled`, `remaining`, `errcode`, `version`) and with the state for `RecoveryStateChanged`.
 * A throwing listener never stops the others or the engine.
 */
import { type BackupEvent, type CryptoEventName, payloadOf } from "../services/BackupEvents.js"
import type { RecoveryStateJs } from "./RecoveryStateJs.js"

/** Events of this facade that matrix-js-sdk does not have. */
export const ClientEvent = {
  /** The recovery state changed (see `getRecoveryState`); the listener gets the new state. */
  RecoveryStateChanged: "keyBackup.recoveryStateChanged",
} as const

/** The listener signature of each event, as in matrix-js-sdk for its events. */
export interface CryptoEventListeners {
  /** `CryptoEvent.KeyBackupStatus`: uploads were turned on or off. */
  "crypto.keyBackupStatus": (enabled: boolean) => void
  /** `CryptoEvent.KeyBackupSessionsRemaining`: how many keys wait to be backed up. */
  "crypto.keyBackupSessionsRemaining": (remaining: number) => void
  /** `CryptoEvent.KeyBackupFailed`: an upload failed with this Matrix errcode. */
  "crypto.keyBackupFailed": (errcode: string) => void
  /** `CryptoEvent.KeyBackupDecryptionKeyCached`: the decryption key of this backup version was stored. */
  "crypto.keyBackupDecryptionKeyCached": (version: string) => void
  /** `ClientEvent.RecoveryStateChanged`: the new recovery state. */
  "keyBackup.recoveryStateChanged": (state: RecoveryStateJs) => void
}

/** Every event name a listener can be added for. */
export type ClientEventName = keyof CryptoEventListeners

/** A listener registry; `onFirst` is told the first time a name gets a listener (to start a feed lazily, once). */
export const makeListeners = (onFirst: (name: ClientEventName) => void = () => undefined) => {
  const byName = new Map<ClientEventName, Set<(payload: never) => void>>()
  const announced = new Set<ClientEventName>()
  const add = (name: ClientEventName, listener: (payload: never) => void) => {
    if (!announced.has(name)) {
      announced.add(name)
      onFirst(name)
    }
    const set = byName.get(name) ?? new Set()
    set.add(listener)
    byName.set(name, set)
  }
  /** The wrappers `once` added, by original listener, so `off(name, listener)` also removes them. */
  const onceWrappers = new Map<(payload: never) => void, (payload: never) => void>()
  const on = <K extends ClientEventName>(name: K, listener: CryptoEventListeners[K]): void => add(name, listener)
  const off = <K extends ClientEventName>(name: K, listener: CryptoEventListeners[K]): void => {
    const set = byName.get(name)
    set?.delete(listener)
    const wrapper = onceWrappers.get(listener)
    if (wrapper !== undefined && set?.delete(wrapper) === true) onceWrappers.delete(listener)
  }
  const emit = (name: ClientEventName, payload: unknown): void => {
    for (const listener of [...(byName.get(name) ?? [])]) {
      try {
        Reflect.apply(listener, undefined, [payload])
      } catch {
        // Listener errors are the app's; the event still reaches the other listeners.
      }
    }
  }
  return {
    on,
    off,
    /** Like `on`, for the next event only. */
    once: <K extends ClientEventName>(name: K, listener: CryptoEventListeners[K]): void => {
      const wrapper = (payload: never) => {
        byName.get(name)?.delete(wrapper)
        onceWrappers.delete(listener)
        Reflect.apply(listener, undefined, [payload])
      }
      onceWrappers.set(listener, wrapper)
      add(name, wrapper)
    },
    emit,
    dispatch: (event: BackupEvent): void => emit(event.name satisfies CryptoEventName, payloadOf(event)),
  }
}
