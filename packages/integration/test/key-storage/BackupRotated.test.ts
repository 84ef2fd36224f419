// Drift: the backup is rotated by a device the user never verified. The account is set up as Element sets it up:
// a matrix-js-sdk 43 device bootstraps cross-signing, Secret Storage and a trusted backup; our device is given the
// master key (read from Secret Storage) and backs up keys. A second, unverified js-sdk device resets the backup: the
// new version carries only that device's signature, so neither we nor any js-sdk device that trusts the user's
// identity trusts it. The repair takes the new key from 4S, signs the version with the master key and uploads every
// pending key once; a js-sdk device that trusts the identity then sees a trusted backup it can open.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { KeyBackupEngine, KeyStorage } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
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

describe("key storage drift: an unverified device rotated the backup", { timeout: 180_000 }, () => {
  it.scoped("the repair loads the new key from 4S, signs the version with the master key, and uploads every pending key once", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, uploads, recoveryKey, version: v1, masterSeed } = scenario
        const first = roomKeys(20, "rotated-first")

        yield* onOurDevice(scenario, { masterSeed, held: first }, Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          expect(Option.getOrNull(yield* engine.getActiveSessionBackupVersion())).toBe(v1)
          // Element's backup carries the master key's signature: in sync, nothing to sign.
          expect(yield* keyStorage.diagnoseKeyStorage()).toMatchObject({ healthy: true, server: { version: v1, trusted: true, masterKeySignature: "Valid" } })

          // An unverified js-sdk device opens 4S with the recovery key and resets the backup (its new key goes to 4S).
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
          const before = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
          expect(before).toMatchObject({ identityVerified: true, version: v2, trustInfo: { trusted: false } })

          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.server).toMatchObject({ _tag: "Backup", version: v2, trusted: false, matchesDecryptionKey: false, masterKeySignature: "Missing" })
          // js-sdk's reset deleted every older version, so our key opens nothing live.
          expect(diagnosis.cachedKey).toEqual({ _tag: "Cached", version: v1, matchesCurrent: false })
          expect(diagnosis.secretStorage.backupKey).toBe("MatchesCurrent")
          expect(diagnosis.drifts.map((d) => [d.kind, d.action])).toEqual([
            ["BackupNotTrusted", "CacheKeyFromSecretStorage"],
            ["CachedKeyForOtherVersion", "CacheKeyFromSecretStorage"],
            ["BackupNotCrossSigned", "SignBackup"],
          ])

          const repaired = yield* keyStorage.repairKeyStorage()
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([
            ["CacheKeyFromSecretStorage", "Done"],
            ["SignBackup", "Done"],
            ["UploadPendingKeys", "Done"],
          ])
          expect(repaired.after).toMatchObject({ healthy: true, server: { version: v2, trusted: true, masterKeySignature: "Valid" } })
          const held = ids([...first, ...later])
          expect(yield* uploadedTo(uploads, v2)).toEqual({ sessions: held, duplicates: 0 })
          expect(yield* serverSessions(server, user, v2)).toEqual(held)
          const agree = yield* cachedAndStored
          expect(agree.cached).not.toBeNull()
          expect(agree.cached).toBe(agree.stored)

          // Idempotent: a second repair finds nothing to do, signs and uploads nothing.
          const again = yield* keyStorage.repairKeyStorage()
          expect(again.before.healthy).toBe(true)
          expect(again.steps.map((s) => s.action)).not.toContain("SignBackup")
          expect((yield* uploadedTo(uploads, v2)).duplicates).toBe(0)

          // A js-sdk device that trusts the user's identity sees a trusted backup it can open, holding every key.
          const after = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
          expect(after).toMatchObject({ identityVerified: true, version: v2, trustInfo: { trusted: true, matchesDecryptionKey: true } })
          const restored = yield* Effect.promise(() => after.js.crypto.restoreKeyBackup())
          expect(restored.total).toBe(held.length)
        }))
      }),
    ),
  )
})
