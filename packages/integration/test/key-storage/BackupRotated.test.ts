// Drift: a matrix-js-sdk 43 device rotates the backup (new version, new key in 4S) while our device keeps keys
// pending for the old one. The diagnosis names it; the repair takes the new key from 4S and uploads every key once.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref, Stream } from "effect"
import { KeyBackupEngine, KeyStorage, Recovery } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { bootstrap, cachedAndStored, ids, newUser, ourDevice, roomKeys, serverSessions, uploadedTo, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage drift: the backup was rotated by another device", { timeout: 120_000 }, () => {
  it.scoped("the repair loads the new key from 4S and uploads every pending key once to the new version", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const recoveryKey = yield* bootstrap
          const first = roomKeys(20, "rotated-first")
          yield* engine.addRoomKeys(first)
          yield* engine.waitForBackupSteadyState()
          const v1 = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())

          // The other device: js-sdk, which opens 4S with the recovery key and resets the backup (the new key goes to 4S).
          const v2 = yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
            await js.crypto.resetKeyBackup()
            return (await js.crypto.getActiveSessionBackupVersion()) ?? ""
          })
          expect(v2).not.toBe(v1)
          const later = roomKeys(10, "rotated-later")
          yield* engine.addRoomKeys(later)
          // Our engine's upload to the old version is refused, it re-checks, and neither trusts nor opens the new one.
          yield* Stream.runHead(Stream.filter(engine.stateChanges, (state) => state._tag === "Disabled"))

          const recovery = yield* Recovery.Recovery
          yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) })
          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.server).toMatchObject({ _tag: "Backup", version: v2, trusted: false, matchesDecryptionKey: false })
          // js-sdk's reset deleted every older version, so our key opens nothing live.
          expect(diagnosis.cachedKey).toEqual({ _tag: "Cached", version: v1, matchesCurrent: false })
          expect(diagnosis.secretStorage.backupKey).toBe("MatchesCurrent")
          expect(diagnosis.drifts.map((d) => [d.kind, d.action])).toEqual([
            ["BackupNotTrusted", "CacheKeyFromSecretStorage"],
            ["CachedKeyForOtherVersion", "CacheKeyFromSecretStorage"],
          ])

          const repaired = yield* keyStorage.repairKeyStorage()
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
            ["CacheKeyFromSecretStorage", "Done"],
            ["UploadPendingKeys", "Done"],
          ])
          expect(repaired.after.healthy).toBe(true)
          const held = ids([...first, ...later])
          expect(yield* uploadedTo(uploads, v2)).toEqual({ sessions: held, duplicates: 0 })
          expect(yield* serverSessions(server, user, v2)).toEqual(held)
          const agree = yield* cachedAndStored
          expect(agree.cached).not.toBeNull()
          expect(agree.cached).toBe(agree.stored)

          // Idempotent: a second repair finds nothing to do and uploads nothing.
          const again = yield* keyStorage.repairKeyStorage()
          expect(again.before.healthy).toBe(true)
          expect((yield* uploadedTo(uploads, v2)).duplicates).toBe(0)

          // A third device, js-sdk, sees the repaired backup as one it can open and use, holding every key.
          const seen = yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
            const check = await js.crypto.checkKeyBackupAndEnable()
            const restored = await js.crypto.restoreKeyBackup()
            return { version: check?.backupInfo.version, matches: check?.trustInfo.matchesDecryptionKey, active: await js.crypto.getActiveSessionBackupVersion(), total: restored.total }
          })
          expect(seen).toEqual({ version: v2, matches: true, active: v2, total: held.length })
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
      }),
    ),
  )
})
