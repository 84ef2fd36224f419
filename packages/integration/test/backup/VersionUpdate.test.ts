// Updating a backup version's auth_data (the repair's sign step). Palpo routes the update on POST only, so the PUT the
// spec names is refused with 405 and sent again on POST. Palpo 0.4.0 on updates in place; before 0.4.0 it made a new
// version instead (a variant taking it on PUT is a profile object here): the update is reported as
// superseded, never as done; the old version's keys come to this device and every key goes once to the version that
// ends current, while the old version is left as it was. Real HTTP, the engine and the restore service.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream } from "effect"
import type { Scope } from "effect"
import type { FakeHomeserverAdmin, ProfileName, ServerProfile, TestIdentity } from "@matrix-backup/testkit"
import { encryptRoomKeys, generateRoomKeys, profileNamed } from "@matrix-backup/testkit"
import { BackupStore, DeviceKeys, HomeserverApi, Ids, KeyBackupEngine, KeyBackupRestore, VersionUpdate } from "@matrix-backup/core"
import { deviceKeysLayer, engineLayer, FAST_UPLOAD, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

const BATCH = 50
const MINTS_ON_PUT: ServerProfile = { ...profileNamed("palpo-legacy"), versionUpdateMethod: "PUT" }

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }
type Needs =
  | KeyBackupEngine.KeyBackupEngine
  | KeyBackupRestore.KeyBackupRestore
  | BackupStore.BackupStore
  | HomeserverApi.HomeserverApi
  | DeviceKeys.DeviceKeys
  | Scope.Scope

const run = <A, E>(profile: ProfileName | ServerProfile, f: (ctx: Ctx) => Effect.Effect<A, E, Needs>) =>
  withServer(
    (ctx) =>
      f(ctx).pipe(
        Effect.provide(
          KeyBackupRestore.layer.pipe(
            Layer.provideMerge(
              engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity, { withMaster: true }), BackupStore.layerMemory), {
                ...FAST_UPLOAD,
                batchSize: BATCH,
              }),
            ),
          ),
        ),
      ),
    { profile },
  )

/** A backup with 200 keys of this device and 30 another device put there; then the update the sign step makes. */
const backupThenSign = (ctx: Ctx) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const api = yield* HomeserverApi.HomeserverApi
    const device = yield* DeviceKeys.DeviceKeys
    const info = (yield* engine.resetKeyBackup()).backupInfo
    const version = Ids.BackupVersion.make(info.version ?? "")
    yield* engine.addRoomKeys(roomKeys(200, { rooms: 4 }))
    yield* engine.waitForBackupSteadyState()
    const served = info.auth_data.raw["public_key"]
    const publicKey = typeof served === "string" ? served : ""
    yield* Effect.promise(() => ctx.admin.insertRoomKeys(ctx.identity.userId, version, encryptRoomKeys(publicKey, generateRoomKeys(30, { rooms: 2 }))))
    yield* Effect.promise(() => ctx.admin.clearRequestLog())
    const current = yield* api.getBackupVersion(version)
    const signed = yield* device.signJson(current.auth_data.raw)
    const updated = yield* Effect.either(VersionUpdate.updateBackupVersionInPlace(api, version, { algorithm: current.algorithm, auth_data: signed, version }))
    return { engine, version, updated }
  })

/** Session ids as a set, from anything with room and session ids. */
const ids = (keys: ReadonlyArray<{ readonly roomId: string; readonly sessionId: string }>) => new Set(keys.map((k) => `${k.roomId}|${k.sessionId}`))

const MINTING: ReadonlyArray<readonly [string, ProfileName | ServerProfile]> = [
  ["Palpo 0.1.1–0.3.0: PUT refused, then on POST", "palpo-legacy"],
  ["the update on PUT, a variant no release shipped", MINTS_ON_PUT],
]

describe.each(MINTING)("a version update that makes a new version (%s)", (_name, profile) => {
  it.scopedLive("is reported as superseded; carried over, every key reaches the new version once and the old one keeps its keys", () =>
    run(profile, (ctx) =>
      Effect.gen(function* () {
        const { engine, version, updated } = yield* backupThenSign(ctx)
        expect(updated._tag).toBe("Left")
        const superseded = updated._tag === "Left" ? updated.left : undefined
        expect(superseded).toMatchObject({ _tag: "BackupVersionSuperseded", version, currentVersion: "2" })
        if (superseded?._tag !== "BackupVersionSuperseded") return
        const carried = yield* VersionUpdate.carryIntoNewVersion(
          {
            api: yield* HomeserverApi.HomeserverApi,
            store: yield* BackupStore.BackupStore,
            restore: yield* KeyBackupRestore.KeyBackupRestore,
            engine,
          },
          superseded,
        )
        // Every key of the old version is read (the 200 this device had merge with themselves, 30 are new here).
        expect(carried).toEqual(Option.some({ restored: 230, uploadsTo: Option.some("2") }))
        // A key this device makes afterwards goes to the new version too.
        yield* engine.addRoomKeys(roomKeys(40, { rooms: 1 }))
        yield* engine.waitForBackupSteadyState()

        const store = yield* BackupStore.BackupStore
        const local = [...(yield* Stream.runCollect(store.exportRoomKeys()))]
        const onNew = yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, "2"))
        const onOld = yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))
        expect(local).toHaveLength(270)
        expect(ids(onNew)).toEqual(ids(local))
        expect(onNew).toHaveLength(270)
        expect(onOld).toHaveLength(230)
        expect(yield* store.countPending("2")).toBe(0)
        const rows = yield* Effect.promise(() => ctx.admin.backupVersions(ctx.identity.userId))
        expect(rows.map((r) => [r.version, r.deleted])).toEqual([["1", false], ["2", false]])
        // Once each: ceil(230 / 50) PUTs for the keys already there, one for the 40 new ones; none to the old version.
        const puts = (yield* Effect.promise(() => ctx.admin.requestLog())).filter((e) => e.method === "PUT" && e.path.includes("/room_keys/keys"))
        expect(puts.map((e) => e.query)).toEqual(Array.from({ length: 6 }, () => "version=2"))
      }),
    ),
  )
})

describe("a version update on Palpo 0.4.0 and later (POST only, in place)", () => {
  it.scopedLive("the refused PUT is sent again on POST: the version is signed in place, keeps its keys and takes uploads", () =>
    run("palpo", (ctx) =>
      Effect.gen(function* () {
        const { engine, version, updated } = yield* backupThenSign(ctx)
        expect(updated._tag).toBe("Right")
        const log = (yield* Effect.promise(() => ctx.admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(["GET 200", "PUT 405", "POST 200", "GET 200"])
        const rows = yield* Effect.promise(() => ctx.admin.backupVersions(ctx.identity.userId))
        expect(rows.map((r) => [r.version, r.deleted])).toEqual([[version, false]])
        const signatures = Object(Object(rows[0]?.auth_data)["signatures"])[ctx.identity.userId]
        expect(Object.keys(Object(signatures))).toContain(`ed25519:${ctx.identity.deviceId}`)
        expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))).toHaveLength(230)
        yield* engine.addRoomKeys(roomKeys(10, { rooms: 1 }))
        yield* engine.waitForBackupSteadyState()
        expect(yield* Effect.promise(() => ctx.admin.roomKeys(ctx.identity.userId, version))).toHaveLength(240)
        expect(yield* engine.getActiveSessionBackupVersion()).toEqual(Option.some(version))
      }),
    ),
  )
})

describe("a version update in place (Synapse)", () => {
  it.scopedLive("succeeds after one PUT (no POST) and one GET of the latest version", () =>
    run("synapse", (ctx) =>
      Effect.gen(function* () {
        const { updated } = yield* backupThenSign(ctx)
        expect(updated._tag).toBe("Right")
        const log = (yield* Effect.promise(() => ctx.admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(["GET 200", "PUT 200", "GET 200"])
      }),
    ),
  )
})
