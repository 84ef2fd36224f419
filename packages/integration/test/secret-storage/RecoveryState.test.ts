// The recovery state reached for real against the fake homeserver, and the stream of changes a UI subscribes to
// (the pure transitions are tested in core).
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Option, Redacted, Stream } from "effect"
import { KeyBackupEngine, Recovery, SecretStorageCallbacks as Callbacks } from "@matrix-backup/core"
import { bootstrap, deviceLayer, newUser, setAccountData, withServer } from "./support.js"

describe("recovery state against the server", () => {
  it.effect("walks through NoSecretStorage, NoBackup, BackupKeyNotInSecretStorage, DefaultKeyMissing, UnsupportedDefaultKey, Ready", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const reason = Effect.map(recovery.recoveryState, (s) => (s._tag === "NotReady" ? s.reason : s._tag))
          expect(yield* reason).toBe("NoSecretStorage")
          const generated = yield* recovery.createRecoveryKeyFromPassphrase()
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated) })
          expect(yield* reason).toBe("NoBackup")
          yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId))
          expect(yield* reason).toBe("BackupKeyNotInSecretStorage")
          yield* (yield* KeyBackupEngine.KeyBackupEngine).resetKeyBackup()
          expect(yield* reason).toBe("Ready")
          const keyId = (yield* recovery.getSecretStorageStatus()).defaultKeyId ?? ""
          const description = yield* Effect.promise(() => server.admin.accountData(user.userId, `m.secret_storage.key.${keyId}`))
          yield* setAccountData(server, user, `m.secret_storage.key.${keyId}`, {})
          expect(yield* reason).toBe("DefaultKeyMissing")
          yield* setAccountData(server, user, `m.secret_storage.key.${keyId}`, { algorithm: "org.example.other" })
          expect(yield* reason).toBe("UnsupportedDefaultKey")
          yield* setAccountData(server, user, `m.secret_storage.key.${keyId}`, description as Record<string, unknown>)
          expect(yield* reason).toBe("Ready")
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
      }),
    ),
  )

  it.effect("Dendrite's latest is a deleted version hiding the one this device holds the key for: BackupNotCurrent with that version, not NoBackup", () =>
    withServer(
      (server) =>
        Effect.gen(function* () {
          const user = yield* newUser(server)
          yield* Effect.gen(function* () {
            const recovery = yield* Recovery.Recovery
            yield* bootstrap
            const held = yield* recovery.recoveryState
            expect(held).toMatchObject({ _tag: "Ready" })
            // Another device makes a newer version and deletes it: Dendrite's "latest" is now 404.
            const newer = yield* Effect.promise(() => server.admin.resetBackupAsOtherDevice(user.userId))
            const deleted = yield* Effect.promise(() =>
              fetch(`${server.url}/_matrix/client/v3/room_keys/version/${newer}`, { method: "DELETE", headers: { authorization: `Bearer ${user.accessToken}` } }),
            )
            expect(deleted.status).toBe(200)
            const check = yield* (yield* KeyBackupEngine.KeyBackupEngine).checkKeyBackupAndEnable(true)
            const version = held._tag === "Ready" ? held.backupVersion : ""
            // The engine and the recovery state agree: there is a backup, this device's, and it is not the current one.
            expect(Option.map(check, (c) => c.backupInfo.version)).toEqual(Option.some(version))
            expect(yield* recovery.recoveryState).toEqual(Recovery.RecoveryState.NotReady({ reason: "BackupNotCurrent", defaultKeyId: expect.any(String), backupVersion: version }))
          }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
        }),
      { profile: "dendrite" },
    ),
  )

  it.effect("recoveryStateChanges starts with the current state and follows bootstrap to Ready", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const states = yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          const subscribed = yield* Deferred.make<void>()
          const collected = yield* recovery.recoveryStateChanges.pipe(
            Stream.tap(() => Deferred.succeed(subscribed, undefined)),
            Stream.takeUntil(Recovery.RecoveryState.$is("Ready")),
            Stream.runCollect,
            Effect.fork,
          )
          // Once the subscriber has seen the current state, every later change reaches it.
          yield* Deferred.await(subscribed)
          const generated = yield* recovery.createRecoveryKeyFromPassphrase(Redacted.make("stream"))
          yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
          return Chunk.toReadonlyArray(yield* Fiber.join(collected))
        }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))
        expect(states[0]).toMatchObject({ _tag: "NotReady", reason: "NoSecretStorage" })
        expect(states.at(-1)).toMatchObject({ _tag: "Ready" })
        for (const state of states.slice(1, -1)) {
          // Events published mid-bootstrap may show the half-done steps, never anything else.
          expect(state).toMatchObject({ _tag: "NotReady" })
          expect(["NoBackup", "BackupKeyNotInSecretStorage", "BackupKeyNotCached"]).toContain(state._tag === "NotReady" ? state.reason : "")
        }
      }),
    ),
  )
})
