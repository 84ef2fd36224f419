/**
 * Measurement (prints figures, asserts nothing): on every server profile of the testkit fake, how long after another
 * device replaces or deletes the backup does an upload stop, with how many requests, and how many keys stay pending.
 * The engine runs with its production upload settings (1 s → 16 s backoff, 5 s default 429 wait) except the random
 * start delay, which only delays a run's first request. Target: under 30 s on every profile.
 * Run: pnpm --filter @matrix-backup/bench bench:version-change   (env: BENCH_KEYS=2000)
 */
import { Effect, Layer, Redacted } from "effect"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import type { ServerProfileName } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, generateRoomKeys, randomBackupPublicKey, SERVER_PROFILES, startFakeHomeserver } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, CryptoBackend, DeviceKeys, Entropy, Ids, KeyBackupEngine, RoomKey } from "@matrix-backup/core"

const KEYS = Number(process.env.BENCH_KEYS ?? 2000)
type Change = "replaced" | "deleted"

const measure = (profile: ServerProfileName, change: Change) =>
  Effect.gen(function* () {
    const server = yield* Effect.acquireRelease(Effect.promise(() => startFakeHomeserver({ profile })), (s) => Effect.promise(() => s.stop()))
    const identity = yield* Effect.promise(() => createUserWithCrossSigning(server.url))
    const api = FetchHomeserverApi.layerFetch({ baseUrl: server.url, accessToken: Redacted.make(identity.accessToken), userId: Ids.UserId.make(identity.userId) })
    const device = DeviceKeys.layerFromSeeds({ userId: identity.userId, deviceId: identity.deviceId, deviceSeed: Redacted.make(Uint8Array.from(identity.deviceSigningSeed)) })
    const ports = Layer.mergeAll(api, device, BackupStore.layerMemory, BackupEvents.layer, CryptoBackend.layerWebCrypto.pipe(Layer.provideMerge(Entropy.layer)))
    return yield* Effect.gen(function* () {
      const engine = yield* KeyBackupEngine.KeyBackupEngine
      const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
      const hold = yield* Effect.promise(() => server.admin.injectFault({ kind: "hold", nth: 3, match: { method: "PUT", path: "/room_keys/keys" } }))
      yield* engine.addRoomKeys(generateRoomKeys(KEYS, { rooms: 20 }).map((k) => RoomKey.fromExported(k, { imported: false })))
      yield* Effect.promise(() => server.admin.awaitHeld(hold))
      yield* Effect.promise(async () => {
        if (change === "replaced") await server.admin.resetBackupAsOtherDevice(identity.userId, undefined, { public_key: randomBackupPublicKey() })
        else await fetch(`${server.url}/_matrix/client/v3/room_keys/version/${version}`, { method: "DELETE", headers: { authorization: `Bearer ${identity.accessToken}` } })
        await server.admin.clearRequestLog()
        await server.admin.releaseHeld(hold)
      })
      const start = performance.now()
      const error = yield* Effect.flip(engine.waitForBackupSteadyState())
      const seconds = (performance.now() - start) / 1000
      const requests = (yield* Effect.promise(() => server.admin.requestLog())).filter((e) => e.path.includes("/room_keys/")).length
      const pending = yield* Effect.flatMap(BackupStore.BackupStore, (store) => store.countPending(version))
      return { profile, change, reason: error.reason, seconds: seconds.toFixed(2), requests, pendingOnDevice: pending }
    }).pipe(Effect.provide(KeyBackupEngine.layerWithoutSecretStorage({ maxStartJitter: 0 }).pipe(Layer.provideMerge(ports))))
  }).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  const rows = []
  for (const profile of SERVER_PROFILES) for (const change of ["replaced", "deleted"] as const) rows.push(yield* measure(profile, change))
  console.table(rows)
})

Effect.runPromise(main).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
