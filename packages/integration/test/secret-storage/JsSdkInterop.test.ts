// Interop with matrix-js-sdk 43 (Rust crypto) on the fake homeserver over loopback HTTP: 4S and a backup that js-sdk
// bootstrapped open with this library and js-sdk's recovery key (or passphrase), and 4S this library bootstrapped
// opens in js-sdk (`loadSessionBackupPrivateKeyFromSecretStorage` with our recovery key or passphrase).
import { afterEach, describe, expect, it } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Option, Redacted } from "effect"
import type { RecoveryKeyCell, SecretStorageKeyAnswer } from "@matrix-backup/testkit/JsSdk"
import { bootstrapJsSdkSecretStorage, jsSdkSecondDevice, recoveryKeyCell, startJsSdkClient, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { deriveRecoveryKeyFromPassphrase } from "matrix-js-sdk/lib/crypto-api/key-passphrase.js"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js"
import { Recovery, SecretStorageCallbacks as Callbacks } from "@matrix-backup/core"
import { deviceLayer, newDevice, newUser, type Server, type TestUser, withServer } from "./support.js"

afterEach(stopAllJsSdkClients)

/** A js-sdk client (Rust crypto, not syncing) for `user`, answering 4S key requests from `cell`. */
const jsClient = (server: Server, user: TestUser, cell: RecoveryKeyCell) =>
  Effect.promise(async () => (await startJsSdkClient(server.url, user, { getSecretStorageKey: cell.get, sync: false })).crypto)

/** A new js-sdk device of `user` that loads the backup key from 4S, answering key requests with `answer`. */
const jsSecondDevice = (server: Server, user: TestUser, answer: SecretStorageKeyAnswer) =>
  Effect.promise(async () => (await jsSdkSecondDevice(server.url, user, { getSecretStorageKey: answer, sync: false })).crypto)

/** On a new device of `user`, this library opens 4S with `input` and loads the backup key. */
const ourDeviceLoads = (server: Server, user: TestUser, input: Parameters<Context.Tag.Service<Recovery.Recovery>["openSecretStorage"]>[0]) =>
  Effect.gen(function* () {
    const device = yield* newDevice(server, user)
    return yield* Effect.gen(function* () {
      const recovery = yield* Recovery.Recovery
      yield* recovery.openSecretStorage(input)
      const version = yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
      return { version, key: Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey())), state: yield* recovery.recoveryState }
    }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
  })

/** This library bootstraps 4S (recovery key or passphrase) and a new backup on `user`'s first device. */
const weBootstrap = (server: Server, user: TestUser, passphrase?: string) =>
  Effect.gen(function* () {
    const recovery = yield* Recovery.Recovery
    const generated = yield* recovery.createRecoveryKeyFromPassphrase(passphrase === undefined ? undefined : Redacted.make(passphrase))
    yield* recovery.bootstrapSecretStorage({ createSecretStorageKey: () => Effect.succeed(generated), setupNewKeyBackup: true })
    const key = Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))
    return { recoveryKey: Redacted.value(generated.encodedPrivateKey ?? Redacted.make("")), key }
  }).pipe(Effect.provide(deviceLayer(server, user, Callbacks.layerNone)))

describe("interop with matrix-js-sdk 43 (Rust crypto)", { timeout: 120_000 }, () => {
  it.effect("4S and a backup bootstrapped by js-sdk open with our library and js-sdk's recovery key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const cell = recoveryKeyCell()
        const crypto = yield* jsClient(server, user, cell)
        const { encoded, backupKey, version } = yield* Effect.promise(async () => {
          const created = await bootstrapJsSdkSecretStorage(crypto, cell)
          return { encoded: created.encodedPrivateKey ?? "", backupKey: await crypto.getSessionBackupPrivateKey(), version: await crypto.getActiveSessionBackupVersion() }
        })
        const ours = yield* ourDeviceLoads(server, user, { recoveryKey: Redacted.make(encoded) })
        expect(ours.version).toBe(version)
        expect(ours.key).toEqual(backupKey)
        expect(ours.state._tag).toBe("Ready")
      }),
    ),
  )

  it.effect("a passphrase 4S key made by js-sdk opens with our library", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const cell = recoveryKeyCell()
        const crypto = yield* jsClient(server, user, cell)
        const backupKey = yield* Effect.promise(async () => {
          await bootstrapJsSdkSecretStorage(crypto, cell, "js-sdk passphrase ✓")
          return crypto.getSessionBackupPrivateKey()
        })
        const ours = yield* ourDeviceLoads(server, user, { passphrase: Redacted.make("js-sdk passphrase ✓") })
        expect(ours.key).toEqual(backupKey)
      }),
    ),
  )

  it.effect("after js-sdk rotates the backup, our device sees the stale key and reloads the new one from 4S", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const cell = recoveryKeyCell()
        const crypto = yield* jsClient(server, user, cell)
        const created = yield* Effect.promise(() => bootstrapJsSdkSecretStorage(crypto, cell))
        const device = yield* newDevice(server, user)
        yield* Effect.gen(function* () {
          const recovery = yield* Recovery.Recovery
          yield* recovery.openSecretStorage({ recoveryKey: Redacted.make(created.encodedPrivateKey ?? "") })
          const before = yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()
          const rotated = yield* Effect.promise(async () => {
            await crypto.resetKeyBackup()
            return { version: await crypto.getActiveSessionBackupVersion(), key: await crypto.getSessionBackupPrivateKey() }
          })
          expect(rotated.version).not.toBe(before)
          expect(yield* recovery.recoveryState).toMatchObject({ _tag: "NotReady", reason: "BackupKeyNotCached", backupVersion: rotated.version })
          expect(yield* recovery.loadSessionBackupPrivateKeyFromSecretStorage()).toBe(rotated.version)
          expect(Redacted.value(Option.getOrThrow(yield* recovery.getSessionBackupPrivateKey()))).toEqual(rotated.key)
          expect((yield* recovery.recoveryState)._tag).toBe("Ready")
        }).pipe(Effect.provide(deviceLayer(server, device, Callbacks.layerNone)))
      }),
    ),
  )

  it.effect("4S we bootstrapped opens in js-sdk with our recovery key", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const ours = yield* weBootstrap(server, user)
        const crypto = yield* jsSecondDevice(server, user, () => decodeRecoveryKey(ours.recoveryKey))
        const theirs = yield* Effect.promise(async () => {
          const check = await crypto.checkKeyBackupAndEnable()
          return { key: await crypto.getSessionBackupPrivateKey(), matches: check?.trustInfo.matchesDecryptionKey }
        })
        expect(theirs.key).toEqual(ours.key)
        expect(theirs.matches).toBe(true)
      }),
    ),
  )

  it.effect("4S we bootstrapped with a passphrase opens in js-sdk, deriving from our key description", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const user = yield* newUser(server)
        const ours = yield* weBootstrap(server, user, "our passphrase")
        const crypto = yield* jsSecondDevice(server, user, async (keys) => {
          const passphrase = Object.values(keys)[0]?.passphrase
          if (passphrase === undefined) return null
          return deriveRecoveryKeyFromPassphrase("our passphrase", passphrase.salt, passphrase.iterations, passphrase.bits)
        })
        const key = yield* Effect.promise(() => crypto.getSessionBackupPrivateKey())
        expect(key).toEqual(ours.key)
      }),
    ),
  )
})
