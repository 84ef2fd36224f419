// Every state transition of the engine, observed on its state stream, against the fake over loopback HTTP.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import type { Scope } from "effect"
import type { FakeHomeserverAdmin, TestIdentity } from "@matrix-backup/testkit"
import { type BackupEvents, BackupStore, KeyBackupEngine, UploadOptions } from "@matrix-backup/core"
import { deviceKeysLayer, engineLayer, eventually, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }
const run = <A, E>(f: (ctx: Ctx) => Effect.Effect<A, E, KeyBackupEngine.KeyBackupEngine | BackupStore.BackupStore | BackupEvents.BackupEvents | Scope.Scope>) =>
  withServer((ctx) =>
    f(ctx).pipe(
      Effect.provide(engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity), BackupStore.layerMemory))),
    ),
  )

/** Records every state the engine goes through (forked; read it after the action). */
const record = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const seen: Array<KeyBackupEngine.BackupState> = []
  const fiber = yield* Effect.forkScoped(Stream.runForEach(engine.stateChanges, (s) => Effect.sync(() => void seen.push(s))))
  yield* eventually(() => expect(seen.length).toBeGreaterThan(0))
  return { seen, tags: () => seen.map((s) => s._tag), fiber }
})

describe("engine state transitions", () => {
  it.scopedLive("Unknown → Checking → Disabled(NoBackup)", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const r = yield* record
        yield* engine.checkKeyBackupAndEnable()
        yield* eventually(() => expect(r.seen).toEqual([{ _tag: "Unknown" }, { _tag: "Checking" }, { _tag: "Disabled", reason: "NoBackup" }]))
      }),
    ),
  )

  it.scopedLive("Enabled → Uploading(remaining…) → Enabled, with exact remaining counts", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* engine.waitForBackupSteadyState()
        const r = yield* record
        yield* engine.addRoomKeys(roomKeys(2 * UploadOptions.DEFAULT_BATCH_SIZE + 7))
        yield* engine.waitForBackupSteadyState()
        yield* eventually(() =>
          expect(r.seen.filter((s) => s._tag === "Uploading")).toEqual([
            { _tag: "Uploading", version: "1", remaining: UploadOptions.DEFAULT_BATCH_SIZE + 7 },
            { _tag: "Uploading", version: "1", remaining: 7 },
            { _tag: "Uploading", version: "1", remaining: 0 },
          ]),
        )
        yield* eventually(() => expect(r.seen.at(-1)).toEqual({ _tag: "Enabled", version: "1" }))
        yield* Fiber.interrupt(r.fiber)
      }),
    ),
  )

  it.scopedLive("Uploading → Error(RateLimited, retryInMs) and Error(UploadFailed, errcode) → Uploading", () =>
    run(({ admin }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        const r = yield* record
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 7, times: 3, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 500, times: 6, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* engine.addRoomKeys(roomKeys(10))
        yield* engine.waitForBackupSteadyState()
        const errors = r.seen.filter((s) => s._tag === "Error")
        expect(errors[0]).toEqual({
          _tag: "Error",
          reason: "RateLimited",
          version: "1",
          errcode: "M_LIMIT_EXCEEDED",
          status: 429,
          serverMessage: "Too Many Requests",
          failures: 1,
          retryInMs: 7,
        })
        // Both faults count the first three requests (the 429 wins); the next three get 500s, which the loop retries itself.
        expect(errors.some((s) => s._tag === "Error" && s.reason === "UploadFailed" && s.errcode === "M_UNKNOWN")).toBe(true)
        expect(r.seen.at(-1)).toMatchObject({ _tag: "Enabled" })
      }),
    ),
  )

  it.scopedLive("a failed check with uploads off → Error(CheckFailed); with uploads on, nothing changes", () =>
    run(({ admin }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        const fault = yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 503, match: { method: "GET", path: /room_keys\/version$/ } }))
        expect(Option.isNone(yield* engine.checkKeyBackupAndEnable())).toBe(true)
        expect(yield* engine.state).toMatchObject({ _tag: "Error", reason: "CheckFailed", errcode: "M_UNKNOWN" })
        expect((yield* Effect.flip(engine.waitForBackupSteadyState())).reason).toBe("Unknown")
        yield* Effect.promise(() => admin.removeFault(fault))
        yield* engine.resetKeyBackup()
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 503, match: { method: "GET", path: /room_keys\/version$/ } }))
        expect(Option.isNone(yield* engine.checkKeyBackupAndEnable())).toBe(true)
        expect(yield* engine.state).toMatchObject({ _tag: "Enabled", version: "1" })
        expect(Option.getOrThrow(yield* engine.getActiveSessionBackupVersion())).toBe("1")
      }),
    ),
  )

  it.scopedLive("disable(reason) from Enabled → Disabled(reason); enabling again is a new activation", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* engine.disable("Requested")
        expect(yield* engine.state).toEqual({ _tag: "Disabled", reason: "Requested" })
        yield* engine.addRoomKeys(roomKeys(3))
        expect((yield* Effect.flip(engine.waitForBackupSteadyState())).reason).toBe("BackupDisabled")
        yield* engine.checkKeyBackupAndEnable()
        yield* engine.waitForBackupSteadyState()
        expect(yield* engine.state).toEqual({ _tag: "Enabled", version: "1" })
      }),
    ),
  )

  it.scopedLive("steady-state wait times out with the pending count instead of hanging", () =>
    run(({ admin }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine.KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 500, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* engine.addRoomKeys(roomKeys(4))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState({ timeoutMs: 300 }))
        expect(error).toMatchObject({ reason: "Timeout", remaining: 4 })
      }),
    ),
  )
})
