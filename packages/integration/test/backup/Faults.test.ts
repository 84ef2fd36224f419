// Faults during upload: 429 storms, 5xx runs, connection resets after the server stored the batch, a server
// restart (state kept in its data file) and another device resetting the backup mid-upload. Once the faults
// stop, every key is on the server in the current trusted version exactly once, and the store agrees. Every
// case runs on each server profile of the fake.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { FakeHomeserverAdmin, ServerProfileName, TestIdentity } from "@matrix-backup/testkit"
import { createUserWithCrossSigning, SERVER_PROFILES, signBackupAuthData, startFakeHomeserver } from "@matrix-backup/testkit"
import { BackupEvents, BackupStore, Base64, KeyBackupEngine, type RoomKey } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { collectEvents, deviceKeysLayer, engineLayer, FAST_UPLOAD, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }
type Needs = KeyBackupEngine.KeyBackupEngine | BackupStore.BackupStore | BackupEvents.BackupEvents | Scope.Scope

const layerFor = (ctx: { readonly url: string; readonly identity: TestIdentity }, withMaster = false) =>
  engineLayer(
    Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity, { withMaster }), BackupStore.layerMemory),
    { ...FAST_UPLOAD, batchSize: 50 },
  )

const run = <A, E>(profile: ServerProfileName, f: (ctx: Ctx) => Effect.Effect<A, E, Needs>, withMaster = false) =>
  withServer((ctx) => f(ctx).pipe(Effect.provide(layerFor(ctx, withMaster))), { profile })

/** The status of an upload to a version that exists but is no longer current, as each implementation answers it. */
const WRONG_VERSION_STATUS: Record<ServerProfileName, number> = { synapse: 403, conduwuit: 400, tuwunel: 400, dendrite: 403, palpo: 400 }

/** The invariant: the server's version holds each key exactly once, and the store has nothing pending for it. */
const expectComplete = (admin: FakeHomeserverAdmin, userId: string, version: string, keys: ReadonlyArray<RoomKey.RoomKey>) =>
  Effect.gen(function* () {
    const stored = yield* Effect.promise(() => admin.roomKeys(userId, version))
    const ids = stored.map((s) => `${s.roomId}|${s.sessionId}`)
    expect(ids).toHaveLength(keys.length)
    expect(new Set(ids)).toEqual(new Set(keys.map((k) => `${k.roomId}|${k.sessionId}`)))
    const store = yield* BackupStore.BackupStore
    expect(yield* store.countPending(version)).toBe(0)
    expect(yield* store.countTotal()).toBe(keys.length)
  })

const keysPut = (admin: FakeHomeserverAdmin) =>
  Effect.map(Effect.promise(() => admin.requestLog()), (log) => log.filter((e) => e.method === "PUT" && e.path.endsWith("/room_keys/keys")))

describe.each(SERVER_PROFILES)("upload under faults on the %s profile", (profile) => {
  it.scopedLive("a 429 storm: the loop waits retry_after_ms and loses nothing", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 5, times: 12, match: { method: "PUT", path: "/room_keys/keys" } }))
        const keys = roomKeys(300)
        yield* engine.addRoomKeys(keys)
        yield* engine.waitForBackupSteadyState()
        yield* expectComplete(admin, identity.userId, version, keys)
        const puts = yield* keysPut(admin)
        expect(puts.filter((e) => e.status === 429)).toHaveLength(12)
        expect(puts.filter((e) => e.status === 200)).toHaveLength(6)
      }),
    ),
  )

  it.scopedLive("a run of 5xx answers: backoff, then every key lands once", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const seen = yield* collectEvents
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 502, times: 9, match: { method: "PUT", path: "/room_keys/keys" } }))
        const keys = roomKeys(200)
        yield* engine.addRoomKeys(keys)
        yield* engine.waitForBackupSteadyState()
        yield* expectComplete(admin, identity.userId, version, keys)
        // Transient failures never disable the backup.
        expect(seen.filter((e) => e.name === BackupEvents.CryptoEvent.KeyBackupStatus)).toEqual([{ name: BackupEvents.CryptoEvent.KeyBackupStatus, enabled: true }])
        expect(seen.filter((e) => e.name === BackupEvents.CryptoEvent.KeyBackupFailed)).toEqual([])
      }),
    ),
  )

  it.scopedLive("connections reset after the server stored a batch: the batch is sent again, the server keeps one copy", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        yield* Effect.promise(() => admin.injectFault({ kind: "resetMidBody", afterBytes: 0, times: 6, match: { method: "PUT", path: "/room_keys/keys" } }))
        const keys = roomKeys(250)
        yield* engine.addRoomKeys(keys)
        yield* engine.waitForBackupSteadyState()
        yield* expectComplete(admin, identity.userId, version, keys)
        const puts = yield* keysPut(admin)
        expect(puts.length).toBeGreaterThan(5)
      }),
    ),
  )

  it.scopedLive("a key replaced by a better copy while its batch is in flight: the newer copy is uploaded too, nothing is lost", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        const hold = yield* Effect.promise(() => admin.injectFault({ kind: "hold", times: 1, match: { method: "PUT", path: "/room_keys/keys" } }))
        const keys = roomKeys(120).map((k) => ({ ...k, firstKnownIndex: 5 }))
        yield* engine.addRoomKeys(keys)
        yield* Effect.promise(() => admin.awaitHeld(hold))
        const first = keys[0]
        if (first === undefined) throw new Error("test: no key")
        // The first batch is held at the server, unanswered; a better copy (lower first index) of one of its keys arrives.
        expect((yield* Effect.promise(() => admin.roomKeys(identity.userId, version))).map((s) => s.sessionId)).toEqual([])
        yield* engine.addRoomKeys([{ ...first, firstKnownIndex: 0 }])
        expect(yield* Effect.promise(() => admin.releaseHeld(hold))).toBe(1)
        yield* engine.waitForBackupSteadyState()
        yield* expectComplete(admin, identity.userId, version, keys)
        const stored = yield* Effect.promise(() => admin.roomKeys(identity.userId, version))
        expect(stored.find((s) => s.sessionId === first.sessionId)?.data.first_message_index).toBe(0)
      }),
    ),
  )

  it.scopedLive("another device resets the backup mid-upload: the engine switches and the new version gets every key once", () =>
    run(
      profile,
      ({ admin, identity }) =>
        Effect.gen(function* () {
          const engine = yield* KeyBackupEngine.KeyBackupEngine
          const seen = yield* collectEvents
          yield* engine.resetKeyBackup()
          // The third batch to v1 is held at the server: two batches are stored, the rest is pending.
          const hold = yield* Effect.promise(() => admin.injectFault({ kind: "hold", nth: 3, match: { method: "PUT", path: "/room_keys/keys" } }))
          const keys = roomKeys(1000, { rooms: 13 })
          yield* engine.addRoomKeys(keys)
          yield* Effect.promise(() => admin.awaitHeld(hold))
          expect(yield* Effect.promise(() => admin.roomKeys(identity.userId, "1"))).toHaveLength(100)
          // Reset from "another device" (trusted: master-signed) while that batch is in flight; it then meets the new version.
          const auth = signBackupAuthData({ public_key: Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(globalThis.crypto.getRandomValues(new Uint8Array(32)))) }, identity)
          const v2 = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId, undefined, auth))
          expect(yield* Effect.promise(() => admin.releaseHeld(hold))).toBe(1)
          yield* engine.waitForBackupSteadyState()
          expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe(v2)
          yield* expectComplete(admin, identity.userId, v2, keys)
          expect(seen).toContainEqual({ name: BackupEvents.CryptoEvent.KeyBackupFailed, errcode: "M_WRONG_ROOM_KEYS_VERSION" })
          // The held batch is the only rejected upload, with the profile's status; no request storm: 2 + 1 + 20 PUTs.
          const puts = yield* keysPut(admin)
          expect(puts.filter((e) => e.status !== 200).map((e) => e.status)).toEqual([WRONG_VERSION_STATUS[profile]])
          expect(puts).toHaveLength(23)
        }),
      true,
    ),
  )

  it.scopedLive("the server restarts mid-upload (state kept in its data file): uploads resume and finish", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "engine-restart-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const dataFile = join(dir, "state.json")
      let server = yield* Effect.promise(() => startFakeHomeserver({ dataFile, profile }))
      yield* Effect.addFinalizer(() => Effect.promise(() => server.stop()))
      const port = Number(new URL(server.url).port)
      const identity = yield* Effect.promise(() => createUserWithCrossSigning(server.url))
      yield* Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        const hold = yield* Effect.promise(() => server.admin.injectFault({ kind: "hold", nth: 4, match: { method: "PUT", path: "/room_keys/keys" } }))
        const keys = roomKeys(600)
        yield* engine.addRoomKeys(keys)
        yield* Effect.promise(() => server.admin.awaitHeld(hold))
        // Three batches are stored and the fourth is on the wire when the server stops (the held PUT is never handled).
        expect(yield* Effect.promise(() => server.admin.roomKeys(identity.userId, version))).toHaveLength(150)
        expect(yield* Effect.flatMap(BackupStore.BackupStore, (store) => store.countPending(version))).toBe(450)
        yield* Effect.promise(() => server.stop())
        server = yield* Effect.promise(() => startFakeHomeserver({ dataFile, port, profile }))
        yield* engine.waitForBackupSteadyState()
        yield* expectComplete(server.admin, identity.userId, version, keys)
      }).pipe(Effect.provide(layerFor({ url: server.url, identity })))
    }),
  )
})
