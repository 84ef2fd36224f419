// Drift: a matrix-js-sdk 43 client writes a stale backup key into Secret Storage while our device holds the right
// one. The diagnosis names the mismatch; the repair stores our key in 4S, so new devices can open the backup again.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref } from "effect"
import { KeyBackupEngine, KeyStorage, Recovery } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { bootstrap, cachedAndStored, ids, newUser, ourDevice, roomKeys, serverSessions, uploadedTo, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage drift: a stale backup key in Secret Storage", { timeout: 120_000 }, () => {
  it.scoped("the repair stores the current key in 4S; js-sdk then loads it and opens the backup", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const recoveryKey = yield* bootstrap
          const answer = () => decodeRecoveryKey(recoveryKey)
          const first = roomKeys(10, "stale-first")
          yield* engine.addRoomKeys(first)
          yield* engine.waitForBackupSteadyState()
          const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())

          // A js-sdk device overwrites the 4S backup key with a key of no live backup (as an old client would).
          yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: answer, sync: false })
            const stale = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString("base64").replace(/=+$/, "")
            await js.client.secretStorage.store("m.megolm_backup.v1", stale)
          })
          const later = roomKeys(3, "stale-later")
          yield* engine.addRoomKeys(later)

          const recovery = yield* Recovery.Recovery
          yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(recoveryKey) })
          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.secretStorage.backupKey).toBe("Differs")
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

          const seen = yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: answer, sync: false })
            const check = await js.crypto.checkKeyBackupAndEnable()
            const restored = await js.crypto.restoreKeyBackup()
            return { version: check?.backupInfo.version, matches: check?.trustInfo.matchesDecryptionKey, active: await js.crypto.getActiveSessionBackupVersion(), total: restored.total }
          })
          expect(seen).toEqual({ version, matches: true, active: version, total: held.length })
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
      }),
    ),
  )
})
