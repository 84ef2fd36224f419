// Security: a backup the engine cannot vouch for receives nothing, and the state says why (PROTOCOL.md §7.5, §8.1).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import type { Scope } from "effect"
import type { FakeHomeserverAdmin, TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, ed25519PublicKey, loginNewDevice, MEGOLM_BACKUP_V1, signJson } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, Base64, KeyBackupEngine } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { collectEvents, deviceKeysLayer, engineLayer, eventually, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }

const run = <A, E>(
  f: (ctx: Ctx) => Effect.Effect<A, E, KeyBackupEngine.KeyBackupEngine | BackupStore.BackupStore | BackupEvents.BackupEvents | Scope.Scope>,
  options: { readonly withMaster?: boolean; readonly verifiedDevices?: ReadonlyArray<string> } = {},
  setup: (ctx: Ctx) => Promise<Partial<{ verifiedDevices: ReadonlyArray<string> }>> = async () => ({}),
) =>
  withServer((ctx) =>
    Effect.flatMap(Effect.promise(() => setup(ctx)), (extra) =>
      f(ctx).pipe(
        Effect.provide(
          engineLayer(
            Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity, { ...options, ...extra }), BackupStore.layerMemory),
          ),
        ),
      ),
    ),
  )

const randomKey = () => globalThis.crypto.getRandomValues(new Uint8Array(32))
const publicOf = (key: Uint8Array) => Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(key))
const post = async (url: string, token: string, path: string, body: unknown) => {
  const response = await fetch(`${url}/_matrix/client/v3${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`test: ${path} failed with ${response.status}`)
}

/** Logs in a second device of the user and uploads its self-signed device keys; optionally cross-signs it. */
const secondDevice = async (ctx: Ctx, crossSign: boolean) => {
  const login = await loginNewDevice(ctx.url, ctx.identity)
  const seed = randomKey()
  const keys = signJson(
    {
      user_id: ctx.identity.userId,
      device_id: login.deviceId,
      algorithms: ["m.megolm.v1.aes-sha2"],
      keys: { [`ed25519:${login.deviceId}`]: ed25519PublicKey(seed), [`curve25519:${login.deviceId}`]: publicOf(randomKey()) },
    },
    ctx.identity.userId,
    login.deviceId,
    seed,
  )
  await post(ctx.url, login.accessToken, "/keys/upload", { device_keys: keys })
  if (crossSign) {
    const signed = signJson(keys, ctx.identity.userId, ctx.identity.selfSigningPublicKey, ctx.identity.selfSigningSeed)
    await post(ctx.url, ctx.identity.accessToken, "/keys/signatures/upload", { [ctx.identity.userId]: { [login.deviceId]: signed } })
  }
  return { deviceId: login.deviceId, seed }
}

const expectRefused = (ctx: Ctx, version: string, reason: string) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const check = yield* engine.checkKeyBackupAndEnable(true)
    expect(Option.getOrThrow(check).trustInfo).toEqual({ trusted: false, matchesDecryptionKey: false })
    expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason, version })
    yield* engine.addRoomKeys(roomKeys(20))
    expect((yield* Effect.flip(engine.waitForBackupSteadyState())).reason).toBe(reason === "NotTrusted" ? "NotTrusted" : "BackupDisabled")
    expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))).toEqual([])
  })

describe("security", () => {
  it.scopedLive("the server swaps in an unsigned backup with a foreign key after an upload finished: later keys never go to it, the state says NotTrusted", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const seen = yield* collectEvents
        yield* engine.resetKeyBackup()
        yield* engine.addRoomKeys(roomKeys(50))
        yield* engine.waitForBackupSteadyState()
        const foreign = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId))
        yield* engine.addRoomKeys(roomKeys(20))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState())
        // The wait saw uploads to version 1 refused, then the new version distrusted: it says the backup was replaced.
        expect(error).toMatchObject({ reason: "VersionReplaced", version: "1", currentVersion: foreign, remaining: 20, total: 70, notInCurrentBackup: 70 })
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "NotTrusted", version: foreign })
        expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, foreign))).toEqual([])
        yield* eventually(() => {
          expect(seen).toContainEqual({ name: BackupEvents.CryptoEvent.KeyBackupFailed, errcode: "M_WRONG_ROOM_KEYS_VERSION" })
          expect(seen.filter((e) => e.name === BackupEvents.CryptoEvent.KeyBackupStatus).at(-1)).toEqual({ name: BackupEvents.CryptoEvent.KeyBackupStatus, enabled: false })
        })
        const puts = (yield* Effect.promise(() => ctx.admin.requestLog())).filter((e) => e.method === "PUT" && e.query.includes(`version=${foreign}`))
        expect(puts).toEqual([])
      }),
    ),
  )

  it.scopedLive("tampered auth_data (our device signed another public key) is not trusted", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const signed = signJson({ public_key: publicOf(randomKey()) }, ctx.identity.userId, ctx.identity.deviceId, ctx.identity.deviceSigningSeed)
        const version = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, { ...signed, public_key: publicOf(randomKey()) }))
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const verdict = yield* engine.isKeyBackupTrusted(Option.getOrThrow(yield* engine.getKeyBackupInfo()))
        expect(verdict.details.deviceSignature).toMatchObject({ state: "Invalid", reason: "BadSignature" })
        yield* expectRefused(ctx, version, "NotTrusted")
      }),
    ),
  )

  it.scopedLive("another user's signatures are ignored", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const mallory = yield* Effect.promise(() => createUserWithCrossSigning(ctx.url))
        const auth = signJson({ public_key: publicOf(randomKey()) }, mallory.userId, mallory.deviceId, mallory.deviceSigningSeed)
        const version = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, auth))
        yield* expectRefused(ctx, version, "NotTrusted")
      }),
    ),
  )

  const otherDeviceBackup = (verify: boolean) => async (ctx: Ctx) => {
    const other = await secondDevice(ctx, false)
    const auth = signJson({ public_key: publicOf(randomKey()) }, ctx.identity.userId, other.deviceId, other.seed)
    await ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, auth)
    return verify ? { verifiedDevices: [other.deviceId] } : {}
  }

  it.scopedLive("a signature from our other device that nobody verified is not trusted", () =>
    run(
      (ctx) =>
        Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const info = Option.getOrThrow(yield* engine.getKeyBackupInfo())
          const verdict = yield* engine.isKeyBackupTrusted(info)
          expect(Object.values(verdict.details.otherSignatures)).toMatchObject([{ state: "ValidButNotTrusted", reason: "DeviceNotVerified" }])
          yield* expectRefused(ctx, info.version ?? "", "NotTrusted")
        }),
      {},
      otherDeviceBackup(false),
    ),
  )

  it.scopedLive("the same backup is trusted once the app verified that device locally", () =>
    run(
      (ctx) =>
        Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const check = Option.getOrThrow(yield* engine.checkKeyBackupAndEnable(true))
          expect(check.trustInfo).toEqual({ trusted: true, matchesDecryptionKey: false })
          yield* engine.addRoomKeys(roomKeys(5))
          yield* engine.waitForBackupSteadyState()
          expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, check.backupInfo.version ?? ""))).toHaveLength(5)
        }),
      {},
      otherDeviceBackup(true),
    ),
  )

  it.scopedLive("a backup signed by our other device that our self-signing key cross-signed is trusted when we hold the master key", () =>
    run(
      (ctx) =>
        Effect.gen(function* () {
          const other = yield* Effect.promise(() => secondDevice(ctx, true))
          const auth = signJson({ public_key: publicOf(randomKey()) }, ctx.identity.userId, other.deviceId, other.seed)
          const version = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, auth))
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const check = Option.getOrThrow(yield* engine.checkKeyBackupAndEnable(true))
          expect(check.trustInfo).toEqual({ trusted: true, matchesDecryptionKey: false })
          yield* engine.addRoomKeys(roomKeys(15))
          yield* engine.waitForBackupSteadyState()
          expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))).toHaveLength(15)
        }),
      { withMaster: true },
    ),
  )

  it.scopedLive("an unsigned backup whose key we hold for that version is used; for another version it is not", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const key = randomKey()
        const v1 = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, { public_key: publicOf(key) }))
        const store = yield* BackupStore.BackupStore
        yield* store.storeBackupDecryptionKey(Redacted.make(Uint8Array.from(key)), v1)
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        expect(Option.getOrThrow(yield* engine.checkKeyBackupAndEnable(true)).trustInfo).toEqual({ trusted: false, matchesDecryptionKey: true })
        expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe(v1)
        // Same public key, new version: the cached key is for v1 only.
        const v2 = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, { public_key: publicOf(key) }))
        const verdict = yield* engine.isKeyBackupTrusted(Option.getOrThrow(yield* engine.checkKeyBackupAndEnable(true)).backupInfo)
        expect(verdict.details.decryptionKey).toBe("VersionDiffers")
        yield* expectRefused(ctx, v2, "NotTrusted")
      }),
    ),
  )

  it.scopedLive("an unknown algorithm is never trusted, even when signed by our device", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const auth = signJson({ public_key: publicOf(randomKey()) }, ctx.identity.userId, ctx.identity.deviceId, ctx.identity.deviceSigningSeed)
        const version = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, "org.example.backup", auth))
        yield* expectRefused(ctx, version, "UnsupportedAlgorithm")
      }),
    ),
  )

  it.scopedLive("a signed backup with a low-order public key is refused before any upload", () =>
    run((ctx) =>
      Effect.gen(function* () {
        const auth = signJson({ public_key: Base64.encodeBase64(new Uint8Array(32)) }, ctx.identity.userId, ctx.identity.deviceId, ctx.identity.deviceSigningSeed)
        const version = yield* Effect.promise(() => ctx.admin.resetBackupAsOtherDevice(ctx.identity.userId, MEGOLM_BACKUP_V1, auth))
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.checkKeyBackupAndEnable(true)
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "UnusablePublicKey", version })
        yield* engine.addRoomKeys(roomKeys(5))
        expect((yield* Effect.flip(engine.waitForBackupSteadyState())).reason).toBe("BackupDisabled")
        expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))).toEqual([])
      }),
    ),
  )
})
