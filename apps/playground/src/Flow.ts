/**
 * The story's steps as Effects on a device: create the backup, back up keys with progress, restore on a new device
 * with progress, and check every restored key against the original.
 */
import { BackupStore, KeyBackupEngine, KeyBackupRestore, Recovery, type RoomKey } from "@matrix-backup/core"
import { Effect, Fiber, Option, Redacted, Stream } from "effect"

/** Done/total for a progress bar. */
export type OnProgress = (done: number, total: number) => void

/** Creates Secret Storage with a new recovery key and a new trusted backup; returns the key to show once. */
export const createBackup = Effect.gen(function* () {
  const recovery = yield* Recovery.Recovery
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const generated = yield* recovery.createRecoveryKeyFromPassphrase()
  yield* recovery.bootstrapSecretStorage({
    createSecretStorageKey: () => Effect.succeed(generated),
    setupNewSecretStorage: true,
    setupNewKeyBackup: true,
  })
  const version = yield* engine.getActiveSessionBackupVersion()
  const recoveryKey = generated.encodedPrivateKey === undefined ? "" : Redacted.value(generated.encodedPrivateKey)
  return { recoveryKey, version: Option.getOrElse(version, () => "?") }
})

/** Hands the keys to the engine and waits until all are uploaded, reporting the remaining count as it drops. */
export const backUpKeys = (keys: ReadonlyArray<RoomKey.RoomKey>, onProgress: OnProgress) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const started = performance.now()
    const watcher = yield* engine.stateChanges.pipe(
      Stream.runForEach((state) =>
        Effect.sync(() => {
          if (state._tag === "Uploading") onProgress(keys.length - Math.min(keys.length, state.remaining), keys.length)
        }),
      ),
      Effect.fork,
    )
    yield* engine.addRoomKeys(keys)
    yield* engine.waitForBackupSteadyState()
    yield* Fiber.interrupt(watcher)
    onProgress(keys.length, keys.length)
    const seconds = (performance.now() - started) / 1000
    return { seconds, keysPerSecond: Math.round(keys.length / seconds) }
  })

/** Opens Secret Storage with the pasted recovery key, loads the backup key and restores everything. */
export const restoreWithRecoveryKey = (recoveryKey: string, onProgress: OnProgress) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const restore = yield* KeyBackupRestore.KeyBackupRestore
    yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) })
    yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
    const started = performance.now()
    const result = yield* restore.restoreKeyBackup({
      onProgress: (p) => {
        if (p.stage === "load_keys") onProgress(p.successes + p.failures, p.total)
      },
    })
    const seconds = (performance.now() - started) / 1000
    return { result, seconds, keysPerSecond: Math.round(result.imported / seconds) }
  })

/** How many of the original keys the device's store now holds unchanged. */
export const verify = (originals: ReadonlyArray<RoomKey.RoomKey>) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const byId = new Map(originals.map((k) => [`${k.roomId}|${k.sessionId}`, k]))
    let verified = 0
    yield* Stream.runForEach(store.exportRoomKeys(), (key) =>
      Effect.sync(() => {
        const original = byId.get(`${key.roomId}|${key.sessionId}`)
        if (original !== undefined && original.sessionKey === key.sessionKey && original.senderKey === key.senderKey) verified++
      }),
    )
    return verified
  })
