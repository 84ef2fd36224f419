// MSC4287 (`m.key_backup {enabled}`, and Element's older `m.org.matrix.custom.backup_disabled {disabled}`): our
// device honours an account that chose no key storage (no uploads, no new version, the diagnosis says so), records
// the choice when key storage is turned on, and turning it back on through the repair loses no key. The accounts the
// repair turns back on are set up as Element sets them up (cross-signing, 4S, a backup signed by the master key; our
// device holds the master key), and each ends with a js-sdk device that trusts the identity trusting the backup.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref } from "effect"
import { KeyBackupEngine, KeyStorage, Recovery } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import {
  accountData,
  bootstrap,
  cachedAndStored,
  checkFromTrustingJsSdkDevice,
  elementScenario,
  ids,
  newUser,
  onOurDevice,
  ourDevice,
  roomKeys,
  serverSessions,
  setAccountData,
  uploadedTo,
  withServer,
} from "./support.js"

afterEach(stopAllJsSdkClients)

describe("key storage turned off on the account (MSC4287)", { timeout: 120_000 }, () => {
  it.scoped("reads the stable event first, then the unstable one; malformed content counts as unset", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const keyStorage = yield* KeyStorage.KeyStorage
          const preference = Effect.map(keyStorage.diagnoseKeyStorage(), (d) => d.preference)
          expect(yield* preference).toEqual({ _tag: "Unset" })
          yield* setAccountData(server, user, "m.org.matrix.custom.backup_disabled", { disabled: true })
          expect(yield* preference).toEqual({ _tag: "Off", source: "m.org.matrix.custom.backup_disabled" })
          yield* setAccountData(server, user, "m.key_backup", { enabled: "yes" })
          expect(yield* preference).toEqual({ _tag: "Off", source: "m.org.matrix.custom.backup_disabled" })
          yield* setAccountData(server, user, "m.key_backup", { enabled: true })
          expect(yield* preference).toEqual({ _tag: "On", source: "m.key_backup" })
          yield* setAccountData(server, user, "m.key_backup", {})
          yield* setAccountData(server, user, "m.org.matrix.custom.backup_disabled", { disabled: false })
          expect(yield* preference).toEqual({ _tag: "On", source: "m.org.matrix.custom.backup_disabled" })
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
      }),
    ),
  )

  it.scoped("an account set to off by another client: nothing is uploaded or created until the repair turns it on", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, uploads, recoveryKey, version } = scenario
        const first = roomKeys(8, "off-first")
        yield* onOurDevice(scenario, { masterSeed: scenario.masterSeed, held: first }, Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          yield* setAccountData(server, user, "m.key_backup", { enabled: false })
          yield* engine.checkKeyBackupAndEnable(true)
          expect(yield* engine.state).toEqual(KeyBackupEngine.BackupState.Disabled({ reason: "KeyStorageOff", version }))
          const later = roomKeys(5, "off-later")
          yield* engine.addRoomKeys(later)
          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.drifts).toEqual([{ kind: "KeyStorageOffButBackupExists", action: "TurnOnKeyStorage", detail: `version ${version}` }])

          const versions = Effect.promise(() => server.admin.backupVersions(user.userId))
          const versionsBefore = yield* versions
          const declined = yield* keyStorage.repairKeyStorage({ allowReset: true })
          expect(declined.steps).toEqual([{ action: "TurnOnKeyStorage", outcome: "Skipped", detail: "the account chose no key storage: pass turnOnKeyStorage" }])
          expect(yield* serverSessions(server, user, version)).toEqual(ids(first))
          expect(yield* versions).toEqual(versionsBefore)

          const repaired = yield* keyStorage.repairKeyStorage({ turnOnKeyStorage: true })
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([["TurnOnKeyStorage", "Done"], ["ResumeUploads", "Done"], ["UploadPendingKeys", "Done"]])
          expect(repaired.after).toMatchObject({ healthy: true, server: { version, trusted: true, masterKeySignature: "Valid" } })
          expect(yield* accountData(server, user, "m.key_backup")).toEqual({ enabled: true })
          expect(yield* uploadedTo(uploads, version)).toEqual({ sessions: ids([...first, ...later]), duplicates: 0 })
          expect(yield* serverSessions(server, user, version)).toEqual(ids([...first, ...later]))
          const seen = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
          expect(seen).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
        }))
      }),
    ),
  )

  // Live clock: the HTTP adapter's retries of the failing read wait real milliseconds.
  it.scopedLive("a preference the server fails to return counts as not chosen: uploads go on", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          yield* bootstrap
          // Making a backup is turning key storage on: both forms are recorded.
          expect(yield* accountData(server, user, "m.key_backup")).toEqual({ enabled: true })
          expect(yield* accountData(server, user, "m.org.matrix.custom.backup_disabled")).toEqual({ disabled: false })
          const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
          yield* setAccountData(server, user, "m.key_backup", { enabled: false })
          yield* Effect.promise(() => server.admin.injectFault({ kind: "serverError", match: { method: "GET", path: "/account_data/m.key_backup" } }))
          yield* engine.checkKeyBackupAndEnable(true)
          expect(yield* engine.state).toEqual(KeyBackupEngine.BackupState.Enabled({ version }))
          const keys = roomKeys(4, "off-unreadable")
          yield* engine.addRoomKeys(keys)
          yield* engine.waitForBackupSteadyState()
          expect(yield* serverSessions(server, user, version)).toEqual(ids(keys))
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
      }),
    ),
  )

  it.scoped("js-sdk turns key storage off as Element does; the repair turns it on again with every key we hold, and a new 4S with the cross-signing keys", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, uploads, recoveryKey } = scenario
        const held = roomKeys(12, "element-off")
        yield* onOurDevice(scenario, { masterSeed: scenario.masterSeed, held }, Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const recovery = yield* Recovery.Recovery
          // Element's "turn off key storage": js-sdk deletes the backup and 4S (the cross-signing keys in it too), the
          // app records the choice (MSC4287).
          yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
            await js.crypto.disableKeyStorage()
            await js.client.setAccountData("m.key_backup", { enabled: false })
          })
          yield* engine.checkKeyBackupAndEnable(true)
          const off = yield* keyStorage.diagnoseKeyStorage()
          expect(off).toMatchObject({ preference: { _tag: "Off" }, server: { _tag: "None" }, drifts: [], healthy: true })
          const untouched = yield* keyStorage.repairKeyStorage({ allowReset: true })
          expect(untouched.steps).toEqual([])
          expect((yield* Effect.promise(() => server.admin.backupVersions(user.userId))).every((row) => row.deleted)).toBe(true)

          // Turned on again: a new version (signed by the master key), and a new 4S holding its key and the
          // cross-signing keys the app holds, so a new device can trust the identity and open the backup.
          let newRecoveryKey = ""
          const createSecretStorageKey = () =>
            Effect.tap(recovery.createRecoveryKeyFromPassphrase(), (generated) =>
              Effect.sync(() => {
                newRecoveryKey = Redacted.value(generated.encodedPrivateKey ?? Redacted.make(""))
              }),
            )
          const on = yield* keyStorage.repairKeyStorage({
            turnOnKeyStorage: true,
            allowReset: true,
            setUpSecretStorage: { createSecretStorageKey, crossSigningKeys: scenario.crossSigningKeys },
          })
          expect(on.steps.map((s) => [s.action, s.outcome])).toEqual([
            ["TurnOnKeyStorage", "Done"],
            ["ResetBackup", "Done"],
            ["SetUpSecretStorage", "Done"],
            ["UploadPendingKeys", "Done"],
          ])
          const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
          expect(on.after).toMatchObject({ healthy: true, server: { version, trusted: true, masterKeySignature: "Valid" }, secretStorage: { backupKey: "MatchesCurrent" } })
          expect(JSON.stringify(on)).not.toContain(newRecoveryKey)
          expect(JSON.stringify(on)).not.toContain(scenario.crossSigningKeys.masterKey)
          const agree = yield* cachedAndStored
          expect(agree.cached).toBe(agree.stored)
          expect(yield* uploadedTo(uploads, version)).toEqual({ sessions: ids(held), duplicates: 0 })
          expect(yield* serverSessions(server, user, version)).toEqual(ids(held))

          const seen = yield* checkFromTrustingJsSdkDevice(server, user, newRecoveryKey)
          expect(seen).toMatchObject({ identityVerified: true, version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
          expect(yield* Effect.promise(() => seen.js.crypto.getActiveSessionBackupVersion())).toBe(version)
        }))
      }),
    ),
  )
})
