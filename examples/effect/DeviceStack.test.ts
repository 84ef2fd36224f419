// Testing code built on the Effect API with the testkit: a fake homeserver per test over loopback HTTP, an account
// with cross-signing from the fixtures, a backup seeded on the server, and assertions on what the server holds.
import { describe, expect, it } from "@effect/vitest"
import { BackupStore, KeyBackupEngine, KeyBackupRestore } from "@matrix-backup/core"
import { createUserWithCrossSigning, FakeHomeserver, generateRoomKeys, seedBackup } from "@matrix-backup/testkit"
import { Effect, Option, Redacted } from "effect"
import { deviceStack } from "./DeviceStack.js"

describe("deviceStack", () => {
  it.effect("a reset makes a backup this device trusts, and keys put in it on the server are restored", () =>
    Effect.gen(function* () {
      const { url, admin } = yield* FakeHomeserver
      const identity = yield* Effect.promise(() => createUserWithCrossSigning(url))
      const login = { baseUrl: url, accessToken: Redacted.make(identity.accessToken), userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(identity.deviceSigningSeed) }

      const program = Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const created = yield* engine.resetKeyBackup()
        expect(created.trustInfo).toMatchObject({ trusted: true, matchesDecryptionKey: true })
        const version = Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())
        const [row] = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        const publicKey = String(Object(row?.auth_data).public_key)
        yield* Effect.promise(() => seedBackup(admin, identity.userId, { backupPublicKey: publicKey, keys: generateRoomKeys(50), version }))
        const restore = yield* KeyBackupRestore.KeyBackupRestore
        return yield* restore.restoreKeyBackup()
      })
      const result = yield* Effect.provide(program, deviceStack(login, BackupStore.layerMemory))
      expect(result).toMatchObject({ total: 50, imported: 50, skipped: 0 })
      expect((yield* Effect.promise(() => admin.backupVersions(identity.userId))).filter((v) => !v.deleted)).toHaveLength(1)
    }).pipe(Effect.provide(FakeHomeserver.layerServer())),
  )
})
