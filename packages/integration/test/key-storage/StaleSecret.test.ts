// Drift: on an account set up as Element sets it up (cross-signing, 4S, a backup signed by the master key), a
// matrix-js-sdk 43 client writes a stale backup key into Secret Storage while our device (given the master key) holds
// the right one. js-sdk devices can then no longer load the key from 4S. The diagnosis names the mismatch; the repair
// stores our key in 4S, so a js-sdk device that trusts the user's identity sees a trusted backup it can open.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { KeyBackupEngine, KeyStorage } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { cachedAndStored, checkFromTrustingJsSdkDevice, elementScenario, ids, onOurDevice, roomKeys, serverSessions, uploadedTo, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage drift: a stale backup key in Secret Storage", { timeout: 120_000 }, () => {
  it.scoped("the repair stores the current key in 4S; a js-sdk device that trusts the identity then trusts and opens the backup", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, uploads, recoveryKey, version } = scenario
        const first = roomKeys(10, "stale-first")
        yield* onOurDevice(scenario, { masterSeed: scenario.masterSeed, held: first }, Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          expect(Option.getOrNull(yield* engine.getActiveSessionBackupVersion())).toBe(version)

          // A js-sdk device overwrites the 4S backup key with a key of no live backup (as an old client would).
          yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
            const stale = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString("base64").replace(/=+$/, "")
            await js.client.secretStorage.store("m.megolm_backup.v1", stale)
          })
          // js-sdk refuses the stale key: a new device cannot open the backup.
          expect(Exit.isFailure(yield* Effect.exit(checkFromTrustingJsSdkDevice(server, user, recoveryKey)))).toBe(true)
          const later = roomKeys(3, "stale-later")
          yield* engine.addRoomKeys(later)

          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.secretStorage.backupKey).toBe("Differs")
          expect(diagnosis.server).toMatchObject({ trusted: true, masterKeySignature: "Valid" })
          expect(diagnosis.recovery).toMatchObject({ _tag: "NotReady", reason: "BackupKeyMismatch" })
          expect(diagnosis.drifts.filter((d) => d.kind !== "KeysPending").map((d) => [d.kind, d.action])).toEqual([["BackupKeyMismatch", "StoreKeyInSecretStorage"]])

          const repaired = yield* keyStorage.repairKeyStorage()
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toContainEqual(["StoreKeyInSecretStorage", "Done"])
          expect(repaired.steps.at(-1)).toMatchObject({ action: "UploadPendingKeys", outcome: "Done" })
          expect(repaired.after).toMatchObject({ healthy: true, recovery: { _tag: "Ready" } })
          const agree = yield* cachedAndStored
          expect(agree.cached).toBe(agree.stored)
          const held = ids([...first, ...later])
          expect(yield* uploadedTo(uploads, version)).toEqual({ sessions: held, duplicates: 0 })
          expect(yield* serverSessions(server, user, version)).toEqual(held)

          const seen = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
          expect(seen).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
          const restored = yield* Effect.promise(() => seen.js.crypto.restoreKeyBackup())
          expect({ active: yield* Effect.promise(() => seen.js.crypto.getActiveSessionBackupVersion()), total: restored.total }).toEqual({ active: version, total: held.length })
        }))
      }),
    ),
  )
})
