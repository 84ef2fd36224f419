// openSecretStorage with one input field that takes a recovery key or a passphrase, as matrix-rust-sdk tries them:
// the passphrase first when the key has m.pbkdf2 parameters, then the recovery key.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { Recovery, SecretStorageCallbacks as Callbacks } from "@matrix-backup/core"
import { accountDataWrites, deviceLayer, newDevice, newUser, type Server, type TestUser, withServer, bootstrapWithRecoveryKey } from "./support.js"

/** Opens 4S on a new device with `text` in the one field, then loads the backup key; the outcome as an Either. */
const openWith = (server: Server, user: TestUser, text: string) =>
  Effect.gen(function* () {
    const device = yield* newDevice(server, user)
    return yield* Effect.either(
      Effect.flatMap(Recovery.Recovery, (r) =>
        Effect.zipRight(r.openSecretStorage({ recoveryKeyOrPassphrase: Redacted.make(text) }), r.loadSessionBackupPrivateKeyFromSecretStorage()),
      ).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone))),
    )
  })

describe("openSecretStorage: recovery key or passphrase in one field", () => {
  it.effect("a passphrase key opens with the passphrase or with its recovery key; other text is WrongKey", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = yield* bootstrapWithRecoveryKey(server, user, "one field")
        expect((yield* openWith(server, user, "one field"))._tag).toBe("Right")
        expect((yield* openWith(server, user, recoveryKey))._tag).toBe("Right")
        yield* Effect.promise(() => server.admin.clearRequestLog())
        const wrong = yield* openWith(server, user, "two fields")
        expect(wrong).toMatchObject({ _tag: "Left", left: { _tag: "SecretStorageError", reason: "WrongKey" } })
        expect(yield* accountDataWrites(server)).toEqual([])
      }),
    ),
  )

  it.effect("a random key opens with its recovery key; text that is no recovery key is a RecoveryKeyError", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const recoveryKey = yield* bootstrapWithRecoveryKey(server, user)
        expect((yield* openWith(server, user, recoveryKey.replace(/ /g, "")))._tag).toBe("Right")
        const typo = yield* openWith(server, user, "not my recovery key")
        expect(typo).toMatchObject({ _tag: "Left", left: { _tag: "RecoveryKeyError" } })
      }),
    ),
  )
})
