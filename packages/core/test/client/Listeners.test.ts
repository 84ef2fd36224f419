import { describe, expect, it } from "@effect/vitest"
import { CryptoEvent } from "../../src/services/BackupEvents.js"
import { ClientEvent, makeListeners } from "../../src/client/Listeners.js"

describe("the facade's listener registry", () => {
  it("on: every event, in order, with js-sdk's payload; off removes it", () => {
    const listeners = makeListeners()
    const seen: Array<boolean> = []
    const listener = (enabled: boolean) => void seen.push(enabled)
    listeners.on(CryptoEvent.KeyBackupStatus, listener)
    listeners.dispatch({ name: CryptoEvent.KeyBackupStatus, enabled: true })
    listeners.dispatch({ name: CryptoEvent.KeyBackupStatus, enabled: false })
    listeners.off(CryptoEvent.KeyBackupStatus, listener)
    listeners.dispatch({ name: CryptoEvent.KeyBackupStatus, enabled: true })
    expect(seen).toEqual([true, false])
  })

  it("once: only the next event; off before it fires removes it", () => {
    const listeners = makeListeners()
    const seen: Array<string> = []
    listeners.once(CryptoEvent.KeyBackupDecryptionKeyCached, (version) => void seen.push(`a${version}`))
    const removed = (version: string) => void seen.push(`b${version}`)
    listeners.once(CryptoEvent.KeyBackupDecryptionKeyCached, removed)
    listeners.off(CryptoEvent.KeyBackupDecryptionKeyCached, removed)
    listeners.dispatch({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version: "1" })
    listeners.dispatch({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version: "2" })
    expect(seen).toEqual(["a1"])
  })

  it("a throwing listener does not stop the others", () => {
    const listeners = makeListeners()
    const seen: Array<number> = []
    listeners.on(CryptoEvent.KeyBackupSessionsRemaining, () => {
      throw new Error("app bug")
    })
    listeners.on(CryptoEvent.KeyBackupSessionsRemaining, (remaining) => void seen.push(remaining))
    listeners.dispatch({ name: CryptoEvent.KeyBackupSessionsRemaining, remaining: 7 })
    expect(seen).toEqual([7])
  })

  it("tells onFirst the first time a name gets a listener (on or once), never again for that name", () => {
    const first: Array<string> = []
    const listeners = makeListeners((name) => first.push(name))
    const a = () => undefined
    listeners.on(ClientEvent.RecoveryStateChanged, a)
    listeners.once(ClientEvent.RecoveryStateChanged, () => undefined)
    listeners.off(ClientEvent.RecoveryStateChanged, a)
    listeners.emit(ClientEvent.RecoveryStateChanged, { state: "Unknown" })
    listeners.on(ClientEvent.RecoveryStateChanged, a)
    listeners.on(CryptoEvent.KeyBackupFailed, () => undefined)
    expect(first).toEqual([ClientEvent.RecoveryStateChanged, CryptoEvent.KeyBackupFailed])
  })
})
