// Drift: another device made a new backup version that we can neither trust nor open, and kept its key to itself,
// while our key still opens the older version (which holds keys of a second device of ours too). Without
// `allowReset` the repair only says so and uploads nothing to the untrusted version; with it, the older version's
// keys are restored first, then a new version gets every key both devices held, each once.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref, Stream } from "effect"
import { KeyBackupEngine, KeyStorage, Recovery } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { bootstrap, cachedAndStored, ids, newDevice, newUser, ourDevice, roomKeys, serverSessions, uploadedTo, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage drift: the current version is one we cannot trust or open", { timeout: 120_000 }, () => {
  it.scoped("says so without allowReset; with it, carries every key we and our other device held into a new version", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        const first = roomKeys(10, "untrusted-first")
        const recoveryKey = yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const key = yield* bootstrap
          yield* engine.addRoomKeys(first)
          yield* engine.waitForBackupSteadyState()
          return key
        }).pipe(Effect.provide(ourDevice(server, user, uploads)), Effect.scoped)
        // Our second device loads the key from 4S and backs up keys of its own to the same version.
        const other = yield* newDevice(server, user)
        const theirs = roomKeys(4, "untrusted-other-device")
        yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) })
          yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
          yield* engine.addRoomKeys(theirs)
          yield* engine.waitForBackupSteadyState()
        }).pipe(Effect.provide(ourDevice(server, other, uploads)), Effect.scoped)

        const device = yield* newDevice(server, user)
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const recovery = yield* Recovery.Recovery
          yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) })
          const v1 = yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
          const mine = roomKeys(6, "untrusted-mine")
          yield* engine.addRoomKeys(mine)
          yield* engine.waitForBackupSteadyState()
          // Another client makes a version signed by nobody we trust, keeping its key (older versions stay live).
          const v2 = yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId))
          const later = roomKeys(3, "untrusted-later")
          yield* engine.addRoomKeys(later)
          yield* Stream.runHead(Stream.filter(engine.stateChanges, (state) => state._tag === "Disabled" && state.reason === "NotTrusted"))

          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.server).toMatchObject({ _tag: "Backup", version: v2, trusted: false, matchesDecryptionKey: false })
          expect(diagnosis.cachedKey).toEqual({ _tag: "Cached", version: v1, matchesCurrent: false, opensLiveVersion: v1 })
          expect(diagnosis.drifts.map((d) => [d.kind, d.action])).toEqual([["BackupNotTrusted", "ResetBackup"], ["CachedKeyForOtherVersion", "ResetBackup"]])
          expect(diagnosis.drifts[0]?.detail).toContain(`our key opens older version ${v1}`)

          const declined = yield* keyStorage.repairKeyStorage()
          expect(declined.steps).toEqual([{ action: "ResetBackup", outcome: "Skipped", detail: "making a new version deletes the others: pass allowReset" }])
          expect(yield* uploadedTo(uploads, v2)).toEqual({ sessions: [], duplicates: 0 })
          expect((yield* Effect.promise(() => server.admin.backupVersions(user.userId))).filter((row) => !row.deleted)).toHaveLength(2)

          const repaired = yield* keyStorage.repairKeyStorage({ allowReset: true })
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
            ["RestoreOlderVersion", "Done"],
            ["ResetBackup", "Done"],
            ["UploadPendingKeys", "Done"],
          ])
          expect(repaired.steps[0]?.detail).toBe(`version ${v1}: ${first.length + theirs.length + mine.length} of ${first.length + theirs.length + mine.length} keys`)
          expect(repaired.after.healthy).toBe(true)
          const v3 = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
          const union = ids([...first, ...theirs, ...mine, ...later])
          expect(yield* uploadedTo(uploads, v3)).toEqual({ sessions: union, duplicates: 0 })
          expect(yield* serverSessions(server, user, v3)).toEqual(union)
          expect(yield* uploadedTo(uploads, v2)).toEqual({ sessions: [], duplicates: 0 })
          const agree = yield* cachedAndStored
          expect(agree.cached).toBe(agree.stored)

          const seen = yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
            const check = await js.crypto.checkKeyBackupAndEnable()
            return { version: check?.backupInfo.version, matches: check?.trustInfo.matchesDecryptionKey, active: await js.crypto.getActiveSessionBackupVersion() }
          })
          expect(seen).toEqual({ version: v3, matches: true, active: v3 })
        }).pipe(Effect.provide(ourDevice(server, device, uploads)))
      }),
    ),
  )
})
