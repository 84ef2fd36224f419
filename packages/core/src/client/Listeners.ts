/**
 * `on`/`off` for the facade: listeners per `CryptoEvent` string, called with matrix-js-sdk's payloads
 * (`enabled`, `remaining`, `errcode`, `version`). A throwing listener never stops the others or the engine.
 */
import { type BackupEvent, type CryptoEventName, payloadOf } from "../services/BackupEvents.js"

/** The listener signature of each event, as in matrix-js-sdk. */
export interface CryptoEventListeners {
  "crypto.keyBackupStatus": (enabled: boolean) => void
  "crypto.keyBackupSessionsRemaining": (remaining: number) => void
  "crypto.keyBackupFailed": (errcode: string) => void
  "crypto.keyBackupDecryptionKeyCached": (version: string) => void
}

/** A listener registry. */
export const makeListeners = () => {
  const byName = new Map<CryptoEventName, Set<(payload: never) => void>>()
  return {
    on: <K extends CryptoEventName>(name: K, listener: CryptoEventListeners[K]): void => {
      const set = byName.get(name) ?? new Set()
      set.add(listener)
      byName.set(name, set)
    },
    off: <K extends CryptoEventName>(name: K, listener: CryptoEventListeners[K]): void => {
      byName.get(name)?.delete(listener)
    },
    dispatch: (event: BackupEvent): void => {
      const payload = payloadOf(event)
      for (const listener of byName.get(event.name) ?? []) {
        try {
          Reflect.apply(listener, undefined, [payload])
        } catch {
          // Listener errors are the app's; the event still reaches the other listeners.
        }
      }
    },
  }
}
