// The repair's sign step on its own (KeyStorage.signBackup) and inside the repair. On an Element-style account whose
// backup an unverified js-sdk device rotated (so the current version lacks the master key's signature), each refusal
// is a typed step result that signs nothing and loses nothing: no master key at hand, a master key that is not the
// one the account publishes (given by the app, or found in Secret Storage), a backup key that does not open the
// version. With the right master key in an open Secret Storage the step signs, and js-sdk then trusts the backup.
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { HomeserverApi, KeyStorage, SecretStorage } from "@matrix-backup/core"
import { jsSdkSecondDevice, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { checkFromTrustingJsSdkDevice, elementScenario, ids, onOurDevice, roomKeys, serverSessions, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

const randomSeed = () => globalThis.crypto.getRandomValues(new Uint8Array(32))

describe("the repair's sign step", { timeout: 180_000 }, () => {
  it.scoped("refuses, signing nothing, without a master key, with one that is not the account's, or when our key does not open the backup", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const scenario = yield* elementScenario(server)
        const { user, recoveryKey } = scenario
        const version = yield* Effect.promise(async () => {
          const js = await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: () => decodeRecoveryKey(recoveryKey), sync: false })
          await js.crypto.resetKeyBackup()
          return (await js.crypto.getActiveSessionBackupVersion()) ?? ""
        })
        const held = roomKeys(6, "sign-refusals")
        // What a refusal must leave as it was: the version's auth_data, its keys, the versions on the server.
        const account = Effect.gen(function* () {
          const info = yield* Effect.orDie((yield* HomeserverApi.HomeserverApi).getBackupVersion())
          return {
            authData: info.auth_data.raw,
            sessions: yield* serverSessions(server, user, version),
            versions: yield* Effect.promise(() => server.admin.backupVersions(user.userId)),
          }
        })
        const signBackup = Effect.flatMap(KeyStorage.KeyStorage, (keyStorage) => keyStorage.signBackup())
        const refuses = (refusal: KeyStorage.SignRefusal) =>
          Effect.gen(function* () {
            const before = yield* account
            expect(yield* signBackup).toMatchObject({ action: "SignBackup", outcome: "Skipped", refusal })
            expect(yield* account).toEqual(before)
          })

        // No master key: the app gave none and Secret Storage is locked.
        yield* onOurDevice(scenario, { held }, Effect.gen(function* () {
          yield* (yield* SecretStorage.SecretStorage).forgetKeys()
          yield* refuses("NoMasterKey")
          expect((yield* (yield* KeyStorage.KeyStorage).diagnoseKeyStorage()).server).toMatchObject({ version, masterKeySignature: "NotHeld" })
        }))
        expect(yield* serverSessions(server, user, version)).toEqual(ids(held))

        // The app gives a master key that is not the account's: the repair, which sees it unsigned, runs the step.
        yield* onOurDevice(scenario, { masterSeed: randomSeed() }, Effect.gen(function* () {
          yield* refuses("MasterKeyMismatch")
          const before = yield* account
          const repaired = yield* (yield* KeyStorage.KeyStorage).repairKeyStorage()
          expect(repaired.steps).toContainEqual(expect.objectContaining({ action: "SignBackup", outcome: "Skipped", refusal: "MasterKeyMismatch" }))
          expect((yield* account).authData).toEqual(before.authData)
        }))

        // The right master key, but this device holds no key that opens the version.
        yield* onOurDevice(scenario, { masterSeed: scenario.masterSeed, loadKey: false }, refuses("BackupKeyDoesNotOpen"))

        // The master key from an open Secret Storage signs; then Secret Storage holding another master key is refused.
        const before = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
        expect(before).toMatchObject({ version, trustInfo: { trusted: false, matchesDecryptionKey: true } })
        yield* onOurDevice(scenario, {}, Effect.gen(function* () {
          const signed = yield* signBackup
          expect(signed).toEqual({ action: "SignBackup", outcome: "Done", detail: `version ${version}, master key from Secret Storage` })
          expect(JSON.stringify(signed)).not.toContain(scenario.crossSigningKeys.masterKey)
          expect((yield* (yield* KeyStorage.KeyStorage).diagnoseKeyStorage()).server).toMatchObject({ version, masterKeySignature: "Valid" })
        }))
        const after = yield* checkFromTrustingJsSdkDevice(server, user, recoveryKey)
        expect(after).toMatchObject({ version, trustInfo: { trusted: true, matchesDecryptionKey: true } })
        // A master key the app gives that is not the account's does not hide the account's signature.
        yield* onOurDevice(scenario, { masterSeed: randomSeed() }, Effect.gen(function* () {
          expect((yield* (yield* KeyStorage.KeyStorage).diagnoseKeyStorage()).server).toMatchObject({ version, masterKeySignature: "Valid" })
        }))
        yield* onOurDevice(scenario, {}, Effect.gen(function* () {
          const stale = Buffer.from(randomSeed()).toString("base64").replace(/=+$/, "")
          yield* (yield* SecretStorage.SecretStorage).store("m.cross_signing.master", Redacted.make(stale))
          yield* refuses("MasterKeyMismatch")
        }))
        expect(yield* serverSessions(server, user, version)).toEqual(ids(held))
      }),
    ),
  )
})
