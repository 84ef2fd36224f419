// The upload loop on every server profile the testkit imitates: another device replacing or deleting the backup
// mid-upload stops the upload with its own reason, within a few requests and at most two backoff waits, and
// every key the server does not hold stays pending on this device. A refusal that persists for a version the
// server still calls current stops the loop instead of re-sending forever.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream, TestClock } from "effect"
import type { Scope } from "effect"
import type { FakeHomeserverAdmin, ServerProfile, ServerProfileName, TestIdentity } from "@matrix-backup/testkit"
import { drivenByTestClock, PROFILES, randomBackupPublicKey, registerUser, SERVER_PROFILES, signBackupAuthData } from "@matrix-backup/testkit"
import { BackupStore, KeyBackupEngine, type RoomKey } from "@matrix-backup/core"
import { deviceKeysLayer, engineLayer, FAST_UPLOAD, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

const KEYS = 400
const BATCH = 50
const PUT_KEYS = { method: "PUT", path: "/room_keys/keys" } as const

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }

type Needs = KeyBackupEngine.KeyBackupEngine | BackupStore.BackupStore | Scope.Scope

const run = <A, E>(profile: ServerProfileName | ServerProfile, f: (ctx: Ctx) => Effect.Effect<A, E, Needs>) =>
  withServer(
    (ctx) =>
      f(ctx).pipe(
        Effect.provide(
          engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity), BackupStore.layerMemory), {
            ...FAST_UPLOAD,
            batchSize: BATCH,
          }),
        ),
      ),
    { profile },
  )

/** Starts an upload of KEYS keys to a new backup and returns once its third PUT is held at the server. */
const uploadUntilThirdBatch = (admin: FakeHomeserverAdmin) =>
  Effect.gen(function* () {
    const engine = yield* KeyBackupEngine.KeyBackupEngine
    const version = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
    const hold = yield* Effect.promise(() => admin.injectFault({ kind: "hold", nth: 3, match: PUT_KEYS }))
    const keys = roomKeys(KEYS, { rooms: 7 })
    const states: Array<KeyBackupEngine.BackupState> = []
    yield* Effect.forkScoped(Stream.runForEach(engine.stateChanges, (state) => Effect.sync(() => void states.push(state))))
    /** Failed uploads announced (each followed by a backoff wait) since the start. */
    const failures = () => states.filter((state) => state._tag === "Error" && state.reason === "UploadFailed").length
    yield* engine.addRoomKeys(keys)
    yield* Effect.promise(() => admin.awaitHeld(hold))
    yield* Effect.promise(() => admin.clearRequestLog())
    return { engine, version, hold, keys, failures }
  })

/** Nothing lost, nothing duplicated: the server's copy of `version` and this device's pending keys make up `keys`. */
const expectSplit = (admin: FakeHomeserverAdmin, userId: string, version: string, keys: ReadonlyArray<RoomKey.RoomKey>, onServer: number) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const stored = onServer === 0 ? [] : yield* Effect.promise(() => admin.roomKeys(userId, version))
    expect(stored).toHaveLength(onServer)
    expect(new Set(stored.map((s) => `${s.roomId}|${s.sessionId}`)).size).toBe(onServer)
    expect(yield* store.countPending(version)).toBe(keys.length - onServer)
    expect(yield* store.countTotal()).toBe(keys.length)
  })

/** Requests to the room_keys API since the log was cleared, other than the other device's own. */
const roomKeysRequests = (admin: FakeHomeserverAdmin) =>
  Effect.map(Effect.promise(() => admin.requestLog()), (log) => log.filter((e) => e.path.includes("/room_keys/") && e.method !== "DELETE"))

/** Deletes a version as another device of the same user would. */
const deleteAsOtherDevice = (url: string, token: string, version: string) =>
  Effect.promise(() => fetch(`${url}/_matrix/client/v3/room_keys/version/${version}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } }))

describe.each(SERVER_PROFILES)("upload on the %s profile", (profile) => {
  it.scopedLive("another device replaces the backup mid-upload: VersionReplaced, the rest pending, a bounded number of requests", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const { engine, version, hold, keys, failures } = yield* uploadUntilThirdBatch(admin)
        // Signed by nobody this device trusts, so uploads cannot move to it.
        const replacement = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId, undefined, { public_key: randomBackupPublicKey() }))
        yield* Effect.promise(() => admin.releaseHeld(hold))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState())
        // The keys on the old version are in no current backup either: all of them are missing from the new one.
        expect(error).toMatchObject({ reason: "VersionReplaced", version, currentVersion: replacement, remaining: KEYS - 2 * BATCH, total: KEYS, notInCurrentBackup: KEYS })
        expect(error.message).toBe(
          `Backup version ${version} was replaced on the server by version ${replacement}; ${2 * BATCH} keys were backed up to version ${version} only ` +
            `and ${KEYS - 2 * BATCH} were not uploaded; ${KEYS} keys on this device are not in the current backup`,
        )
        yield* expectSplit(admin, identity.userId, version, keys, 2 * BATCH)
        const log = yield* roomKeysRequests(admin)
        // The held PUT, a re-check where the answer was ambiguous (2 GETs) and the engine's check (1 GET); no backoff.
        expect(log.filter((e) => e.method === "PUT").length).toBe(1)
        expect(log.length).toBe(profile === "conduwuit" || profile === "palpo" ? 4 : 2)
        expect(failures()).toBe(0)
      }),
    ),
  )

  it.scopedLive("another device deletes the backup mid-upload: VersionDeleted, every key counted as backed up nowhere", () =>
    run(profile, ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const { engine, version, hold, keys, failures } = yield* uploadUntilThirdBatch(admin)
        yield* deleteAsOtherDevice(url, identity.accessToken, version)
        yield* Effect.promise(() => admin.releaseHeld(hold))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState())
        expect(error).toMatchObject({ reason: "VersionDeleted", version, remaining: KEYS })
        expect(error.message).toBe(`Backup version ${version} was deleted on the server; ${KEYS} keys are backed up nowhere`)
        const store = yield* BackupStore.BackupStore
        expect(yield* store.countTotal()).toBe(keys.length)
        const log = yield* roomKeysRequests(admin)
        const puts = log.filter((e) => e.method === "PUT").length
        // Dendrite answers 500 to its deleted latest version: a second PUT after one backoff wait (1 s with the
        // default settings), then the re-check finds the version gone. The others say 404 at once (conduwuit's and
        // tuwunel's "is it the latest?" check passes with no latest, but storing needs the deleted version's row).
        // The engine's check then asks for the latest and for the held key's version.
        expect(puts).toBe(profile === "dendrite" ? 2 : 1)
        expect(log.length).toBe(profile === "dendrite" ? 5 : 3)
        expect(failures()).toBe(profile === "dendrite" ? 1 : 0)
      }),
    ),
  )
})

describe.each(SERVER_PROFILES)("a trusted replacement on the %s profile", (profile) => {
  it.scopedLive("the engine switches to the new version, which gets every key exactly once", () =>
    withServer(
      (ctx) =>
        Effect.gen(function* () {
          const { admin, identity } = ctx
          const { engine, hold, keys } = yield* uploadUntilThirdBatch(admin)
          // Signed with the master key this device trusts: uploads move to it.
          const auth = signBackupAuthData({ public_key: randomBackupPublicKey() }, identity)
          const replacement = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId, undefined, auth))
          yield* Effect.promise(() => admin.releaseHeld(hold))
          yield* engine.waitForBackupSteadyState()
          expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe(replacement)
          const stored = yield* Effect.promise(() => admin.roomKeys(identity.userId, replacement))
          expect(new Set(stored.map((s) => `${s.roomId}|${s.sessionId}`))).toEqual(new Set(keys.map((k) => `${k.roomId}|${k.sessionId}`)))
          expect(stored).toHaveLength(KEYS)
          expect(yield* Effect.flatMap(BackupStore.BackupStore, (store) => store.countPending(replacement))).toBe(0)
          // The held PUT, at most a re-check, the check, then one PUT per batch of the new version.
          const puts = (yield* roomKeysRequests(admin)).filter((e) => e.method === "PUT")
          expect(puts.length).toBe(1 + KEYS / BATCH)
        }).pipe(
          Effect.provide(
            engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity, { withMaster: true }), BackupStore.layerMemory), {
              ...FAST_UPLOAD,
              batchSize: BATCH,
            }),
          ),
        ),
      { profile },
    ),
  )
})

/** conduwuit's answers, except that an upload to a deleted version with no backup left is accepted (no known server does). */
const ACCEPTS_DELETED: ServerProfile = { ...PROFILES.conduwuit, uploadWithoutBackup: "accepted" }

describe("accepted uploads to a deleted version (a server that stores them)", () => {
  it.scoped("a long run notices within 20 s, not only at its end: the check comes with the first batch after 20 s", () =>
    run(ACCEPTS_DELETED, ({ url, admin, identity }) =>
      drivenByTestClock(
        Effect.gen(function* () {
          const { engine, version, hold } = yield* uploadUntilThirdBatch(admin)
          yield* deleteAsOtherDevice(url, identity.accessToken, version)
          // The held batch is answered after the run has uploaded for 21 s (on the TestClock).
          yield* TestClock.adjust("21 seconds")
          yield* Effect.promise(() => admin.releaseHeld(hold))
          const error = yield* Effect.flip(engine.waitForBackupSteadyState())
          expect(error).toMatchObject({ reason: "VersionDeleted", version, remaining: KEYS })
          const log = yield* roomKeysRequests(admin)
          // The held PUT (accepted into the deleted version), the check that finds it gone, the engine's check (the
          // latest, then the held key's version).
          expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(["PUT 200", "GET 404", "GET 404", "GET 404"])
        }),
      ),
    ),
  )
})

describe("a refusal that persists", () => {
  it.scopedLive("the same 400 twice for a version the server still calls current: Rejected with the server's answer, keys pending", () =>
    run("synapse", ({ admin, identity }) =>
      Effect.gen(function* () {
        const { engine, version, hold, keys, failures } = yield* uploadUntilThirdBatch(admin)
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 400, match: PUT_KEYS }))
        yield* Effect.promise(() => admin.releaseHeld(hold))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState())
        // The held PUT had passed the fault check before the fault existed: it is stored.
        expect(error).toMatchObject({ reason: "Rejected", version, status: 400, errcode: "M_UNKNOWN", remaining: KEYS - 3 * BATCH })
        yield* expectSplit(admin, identity.userId, version, keys, 3 * BATCH)
        const log = yield* roomKeysRequests(admin)
        // Two refused PUTs, each followed by a re-check that finds the version unchanged; one backoff wait between.
        expect(log.filter((e) => e.method === "PUT" && e.status === 400).length).toBe(2)
        expect(log.filter((e) => e.method === "GET").length).toBe(4)
        expect(failures()).toBe(1)
      }),
    ),
  )
})

describe.each(SERVER_PROFILES)("reset on the %s profile", (profile) => {
  /** Every version but `live` is deleted, and `live` is not. */
  const expectOnlyLive = (admin: FakeHomeserverAdmin, userId: string, live: string) =>
    Effect.map(Effect.promise(() => admin.backupVersions(userId)), (rows) =>
      expect(rows.map((row) => [row.version, row.deleted])).toEqual(rows.map((row) => [row.version, row.version !== live])),
    )

  it.scopedLive("deletes every version, also those a server's latest no longer shows, then creates one", () =>
    run(profile, ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        for (let i = 0; i < 2; i++) yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* Effect.promise(() => admin.clearRequestLog())
        const fresh = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        expect(fresh).toBe("4")
        yield* expectOnlyLive(admin, identity.userId, fresh)
        // Latest/delete for each version Synapse shows; on Dendrite the two hidden ones are found by number.
        const versionCalls = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        // Synapse-like: 3 × (GET latest, DELETE), the final 404, probes of versions 2 and 1, and the POST.
        // Dendrite: GET latest, DELETE 3, 404, then GET + DELETE for 2 and for 1, and the POST.
        expect(versionCalls.length).toBeLessThanOrEqual(10)
        // Another device deletes the newest version; only the older one, whose key this device holds, is left.
        yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* deleteAsOtherDevice(url, identity.accessToken, "5")
        const last = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        yield* expectOnlyLive(admin, identity.userId, last)
      }),
    ),
  )
})

describe("a live version hidden behind a deleted latest (Dendrite)", () => {
  it.scopedLive("the engine's check reports the version this device holds the key for, with uploads off (NotCurrent)", () =>
    run("dendrite", ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const held = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        const newer = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* deleteAsOtherDevice(url, identity.accessToken, newer)
        const check = yield* engine.checkKeyBackupAndEnable()
        expect(Option.map(check, (c) => [c.backupInfo.version, c.trustInfo.matchesDecryptionKey])).toEqual(Option.some([held, true]))
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "NotCurrent", version: held })
        expect(yield* engine.getActiveSessionBackupVersion()).toEqual(Option.none())
      }),
    ),
  )

  it.scopedLive("with no key held for a live version, the check still says there is no backup", () =>
    run("dendrite", ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const newer = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* deleteAsOtherDevice(url, identity.accessToken, newer)
        expect(yield* engine.checkKeyBackupAndEnable()).toEqual(Option.none())
        expect(yield* engine.state).toMatchObject({ _tag: "Disabled", reason: "NoBackup" })
      }),
    ),
  )
})

describe("a reset where Dendrite's latest hides a live version nothing on this device points at", () => {
  /** Version calls of the reset alone, as `METHOD version-or-latest status`. */
  const versionCalls = (admin: FakeHomeserverAdmin) =>
    Effect.map(Effect.promise(() => admin.requestLog()), (log) =>
      log.filter((e) => e.path.includes("/room_keys/version")).map((e) => `${e.method} ${e.path.split("/room_keys/version")[1] || "latest"} ${e.status}`),
    )

  /**
   * Version `hidden` made by another device, then `othersBetween` versions of another user (Dendrite's serial is shared),
   * then a newer version of ours that another device deletes: "latest" is now 404 and `hidden` lives on. The request
   * log starts empty after it.
   */
  const hideBehindDeletedLatest = ({ url, admin, identity }: Ctx, othersBetween: number) =>
    Effect.gen(function* () {
      const hidden = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
      const bob = yield* Effect.promise(() => registerUser(url))
      for (let i = 0; i < othersBetween; i++) yield* Effect.promise(() => admin.resetBackupAsOtherDevice(bob.userId))
      const newer = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
      yield* deleteAsOtherDevice(url, identity.accessToken, newer)
      yield* Effect.promise(() => admin.clearRequestLog())
      return { hidden, newer }
    })

  it.scopedLive("another device deleted the latest earlier: the version below, with other users' numbers between, is found below the new one and deleted", () =>
    run("dendrite", (ctx) =>
      Effect.gen(function* () {
        const { admin, identity } = ctx
        const { hidden, newer } = yield* hideBehindDeletedLatest(ctx, 2)
        expect([hidden, newer]).toEqual(["1", "4"])
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const fresh = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        expect(fresh).toBe("5")
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.map((row) => [row.version, row.deleted])).toEqual([["1", true], ["4", true], ["5", false]])
        // The latest is 404 at once; after the POST, 4 to 1 are asked (a few at a time), and 1 is deleted.
        const calls = yield* versionCalls(admin)
        expect(calls.slice(0, 2)).toEqual(["GET latest 404", "POST latest 200"])
        expect(new Set(calls.slice(2))).toEqual(new Set(["GET /4 404", "GET /3 404", "GET /2 404", "GET /1 200", "DELETE /1 200"]))
        expect(calls).toHaveLength(7)
      }),
    ),
  )

  it.scopedLive("further down than 32 numbers (another user made 40 versions since), it survives: the reset asks 32 numbers and stops", () =>
    run("dendrite", (ctx) =>
      Effect.gen(function* () {
        const { admin, identity } = ctx
        const { hidden } = yield* hideBehindDeletedLatest(ctx, 40)
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.find((row) => row.version === hidden)?.deleted).toBe(false)
        expect(yield* versionCalls(admin)).toHaveLength(2 + 32)
      }),
    ),
  )
})

describe.each(SERVER_PROFILES)("what the search for hidden versions costs a reset on the %s profile", (profile) => {
  it.scopedLive("a first backup: GET latest and POST; after 39 versions other devices made and deleted, at most 32 probes answer 404", () =>
    run(profile, ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        const first = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        expect(first.map((e) => e.method)).toEqual(["GET", "POST"])
        for (let i = 0; i < 39; i++) {
          const made = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
          yield* deleteAsOtherDevice(url, identity.accessToken, String(Number(made) - 1))
        }
        yield* Effect.promise(() => admin.clearRequestLog())
        yield* engine.resetKeyBackup()
        const calls = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        const probes = calls.filter((e) => e.method === "GET" && e.path.split("/room_keys/version/")[1] !== undefined)
        // The current version's GET and DELETE, the final 404, the version this device knows (its held key's, long
        // deleted), one window of numbers below (all deleted: 404), the POST; those below the new one were all asked.
        expect(probes.filter((e) => e.status === 404)).toHaveLength(1 + 32)
        expect(calls).toHaveLength(3 + 1 + 32 + 1)
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.filter((row) => !row.deleted)).toHaveLength(1)
      }),
    ),
  )

  it.scopedLive("no backup left after 40 deleted versions: GET latest, POST, one window of numbers below the new version", () =>
    run(profile, ({ url, admin, identity }) =>
      Effect.gen(function* () {
        for (let i = 0; i < 40; i++) {
          const made = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
          yield* deleteAsOtherDevice(url, identity.accessToken, made)
        }
        yield* Effect.promise(() => admin.clearRequestLog())
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        expect((yield* engine.resetKeyBackup()).backupInfo.version).toBe("41")
        const calls = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        expect(calls.map((e) => `${e.method} ${e.status}`)).toEqual(["GET 404", "POST 200", ...Array.from({ length: 32 }, () => "GET 404")])
      }),
    ),
  )

  it.scopedLive("40 live versions (a server whose latest hides them finds each below the one before, window by window)", () =>
    run(profile, ({ admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        for (let i = 0; i < 39; i++) yield* Effect.promise(() => admin.resetBackupAsOtherDevice(identity.userId))
        yield* Effect.promise(() => admin.clearRequestLog())
        yield* engine.resetKeyBackup()
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.filter((row) => !row.deleted).map((row) => row.version)).toEqual(["41"])
        const calls = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.includes("/room_keys/version"))
        // 40 DELETEs and a GET per version, the final 404, the POST, and at most one window of 404s.
        expect(calls.filter((e) => e.method === "DELETE")).toHaveLength(40)
        expect(calls.length).toBeLessThanOrEqual(40 * 2 + 2 + 32)
      }),
    ),
  )
})

// Palpo numbers versions by their creation time in milliseconds: the numbers just below a version were never versions.
const PALPO_NUMBERS: ServerProfile = { ...PROFILES.palpo, versionNumbers: "creationMillis" }

describe("what a reset costs where versions are creation times in milliseconds (Palpo)", () => {
  it.scopedLive("a first backup, a reset over it and a reset after another device deleted it ask no window of numbers", () =>
    run(PALPO_NUMBERS, ({ url, admin, identity }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const versionCalls = Effect.map(Effect.promise(() => admin.requestLog()), (log) =>
          log.filter((e) => e.path.includes("/room_keys/version")).map((e) => `${e.method} ${e.path.endsWith("/room_keys/version") ? "latest" : "/{v}"} ${e.status}`),
        )
        const first = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        expect(Number(first)).toBeGreaterThan(1e12)
        expect(yield* versionCalls).toEqual(["GET latest 404", "POST latest 200"])

        yield* Effect.promise(() => admin.clearRequestLog())
        const second = (yield* engine.resetKeyBackup()).backupInfo.version ?? ""
        expect(yield* versionCalls).toEqual(["GET latest 200", "DELETE /{v} 200", "GET latest 404", "POST latest 200"])

        yield* deleteAsOtherDevice(url, identity.accessToken, second)
        yield* Effect.promise(() => admin.clearRequestLog())
        yield* engine.resetKeyBackup()
        // The version this device knows (its held key's, deleted) is still asked about: one GET.
        expect(yield* versionCalls).toEqual(["GET latest 404", "GET /{v} 404", "POST latest 200"])
        const rows = yield* Effect.promise(() => admin.backupVersions(identity.userId))
        expect(rows.map((row) => row.deleted)).toEqual([true, true, false])
      }),
    ),
  )
})
