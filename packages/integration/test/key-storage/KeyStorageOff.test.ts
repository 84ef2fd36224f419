// MSC4287 (`m.key_backup {enabled}`, and Element's older `m.org.matrix.custom.backup_disabled {disabled}`): our
// device honours an account that chose no key storage (no uploads, no new version, the diagnosis says so), records
// the choice when key storage is turned on, and turning it back on through the repair loses no key.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref } from "effect"
import { KeyBackupEngine, KeyStorage, Recovery } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { accountData, bootstrap, cachedAndStored, ids, newUser, ourDevice, roomKeys, serverSessions, setAccountData, uploadedTo, withServer } from "./support.js"

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
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          yield* bootstrap
          // Making a backup is turning key storage on: both forms are recorded.
          expect(yield* accountData(server, user, "m.key_backup")).toEqual({ enabled: true })
          expect(yield* accountData(server, user, "m.org.matrix.custom.backup_disabled")).toEqual({ disabled: false })
          const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
          const first = roomKeys(8, "off-first")
          yield* engine.addRoomKeys(first)
          yield* engine.waitForBackupSteadyState()

          yield* setAccountData(server, user, "m.key_backup", { enabled: false })
          yield* engine.checkKeyBackupAndEnable(true)
          expect(yield* engine.state).toEqual(KeyBackupEngine.BackupState.Disabled({ reason: "KeyStorageOff", version }))
          const later = roomKeys(5, "off-later")
          yield* engine.addRoomKeys(later)
          const diagnosis = yield* keyStorage.diagnoseKeyStorage()
          expect(diagnosis.drifts).toEqual([{ kind: "KeyStorageOffButBackupExists", action: "TurnOnKeyStorage", detail: `version ${version}` }])

          const declined = yield* keyStorage.repairKeyStorage({ allowReset: true })
          expect(declined.steps).toEqual([{ action: "TurnOnKeyStorage", outcome: "Skipped", detail: "the account chose no key storage: pass turnOnKeyStorage" }])
          expect(yield* serverSessions(server, user, version)).toEqual(ids(first))
          expect(yield* Effect.promise(() => server.admin.backupVersions(user.userId))).toHaveLength(1)

          const repaired = yield* keyStorage.repairKeyStorage({ turnOnKeyStorage: true })
          expect(repaired.steps.map((s) => [s.action, s.outcome])).toEqual([["TurnOnKeyStorage", "Done"], ["ResumeUploads", "Done"], ["UploadPendingKeys", "Done"]])
          expect(repaired.after.healthy).toBe(true)
          expect(yield* accountData(server, user, "m.key_backup")).toEqual({ enabled: true })
          expect(yield* uploadedTo(uploads, version)).toEqual({ sessions: ids([...first, ...later]), duplicates: 0 })
          expect(yield* serverSessions(server, user, version)).toEqual(ids([...first, ...later]))
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
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

  it.scoped("js-sdk turns key storage off as Element does; the repair turns it on again with every key we hold", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const uploads = yield* Ref.make(new Map<string, Array<string>>())
        yield* Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const keyStorage = yield* KeyStorage.KeyStorage
          const recoveryKey = yield* bootstrap
          const held = roomKeys(12, "element-off")
          yield* engine.addRoomKeys(held)
          yield* engine.waitForBackupSteadyState()
          // Element's "turn off key storage": js-sdk deletes the backup and 4S, the app records the choice (MSC4287).
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

          const on = yield* keyStorage.repairKeyStorage({ turnOnKeyStorage: true, allowReset: true })
          expect(on.steps.map((s) => [s.action, s.outcome])).toEqual([
            ["TurnOnKeyStorage", "Done"],
            ["ResetBackup", "Done"],
            ["SetUpSecretStorage", "Skipped"],
            ["UploadPendingKeys", "Done"],
          ])
          // 4S was deleted with it: the app sets it up again, then everything agrees.
          expect(on.after.drifts.map((d) => d.kind)).toEqual(["NoSecretStorage"])
          const recovery = yield* Recovery.Recovery
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated) })
          expect((yield* keyStorage.diagnoseKeyStorage()).healthy).toBe(true)
          const agree = yield* cachedAndStored
          expect(agree.cached).toBe(agree.stored)
          const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
          expect(yield* uploadedTo(uploads, version)).toEqual({ sessions: ids(held), duplicates: 0 })
          expect(yield* serverSessions(server, user, version)).toEqual(ids(held))

          const newKey = Redacted.value(generated.encodedPrivateKey ?? Redacted.make(""))
          const seen = yield* Effect.promise(async () => {
            const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(newKey), sync: false })
            const check = await js.crypto.checkKeyBackupAndEnable()
            return { version: check?.backupInfo.version, matches: check?.trustInfo.matchesDecryptionKey, active: await js.crypto.getActiveSessionBackupVersion() }
          })
          expect(seen).toEqual({ version, matches: true, active: version })
        }).pipe(Effect.provide(ourDevice(server, user, uploads)))
      }),
    ),
  )
})
