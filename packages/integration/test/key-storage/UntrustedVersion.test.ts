// Drift: another device made a new backup version that we can neither trust nor open, and kept its key to itself,
// while our key still opens the older version (which holds keys of a second device of ours too). The account was set
// up by a matrix-js-sdk 43 device (cross-signing, 4S, a backup); our repairing device holds the master key. Without
// `allowReset` the repair only says so and uploads nothing to the untrusted version; with it, the older version's
// keys are restored first, then a new version, signed by the master key, gets every key both devices held, each once,
// and a js-sdk device that trusts the user's identity sees it trusted and opens it.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { KeyBackupEngine, KeyStorage } from "@matrix-backup/core"
import { stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import {
  cachedAndStored,
  checkFromTrustingJsSdkDevice,
  elementScenario,
  ids,
  onOurDevice,
  roomKeys,
  serverSessions,
  uploadedTo,
  withServer,
} from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage drift: the current version is one we cannot trust or open", { timeout: 180_000 }, () => {
  it.scoped("says so without allowReset; with it, carries every key we and our other device held into a new version", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, uploads, recoveryKey, masterSeed } = scenario
        const first = roomKeys(10, "untrusted-first")
        // Two devices of ours (without the master key) load the backup key from 4S and back up keys of their own.
        yield* onOurDevice(scenario, { held: first }, Effect.void)
        const theirs = roomKeys(4, "untrusted-other-device")
        yield* onOurDevice(scenario, { held: theirs }, Effect.void)

        const mine = roomKeys(6, "untrusted-mine")
        yield* onOurDevice(scenario, { masterSeed, held: mine }, Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const v1 = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
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

          expect(repaired.after.server).toMatchObject({ version: v3, trusted: true, masterKeySignature: "Valid" })
          const seen = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
          expect(seen).toMatchObject({ identityVerified: true, version: v3, trustInfo: { trusted: true, matchesDecryptionKey: true } })
          expect(yield* Effect.promise(() => seen.js.crypto.getActiveSessionBackupVersion())).toBe(v3)
        }))
      }),
    ),
  )
})
