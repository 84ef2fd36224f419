// Every state transition of the engine, observed on its state stream, against the fake over loopback HTTP.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import type { Scope } from "effect"
import type { FakeHomeserverAdmin, TestIdentity } from "../../../testkit/src/index.js"
import type { BackupState } from "../../src/backup/BackupState.js"
import { activeVersionOf } from "../../src/backup/BackupState.js"
import { KeyBackupEngine } from "../../src/backup/KeyBackupEngine.js"
import { backoffDelay, DEFAULT_BATCH_SIZE, resolveUploadOptions } from "../../src/backup/UploadOptions.js"
import { envelopeOf, plaintextOf } from "../../src/backup/UploadBatch.js"
import type { BackupEvents } from "../../src/services/BackupEvents.js"
import * as BackupStore from "../../src/services/BackupStore.js"
import { deviceKeysLayer, engineLayer, eventually, homeserverLayer, roomKeys, withServer } from "../support/Harness.js"

type Ctx = { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly identity: TestIdentity }
const run = <A, E>(f: (ctx: Ctx) => Effect.Effect<A, E, KeyBackupEngine | BackupStore.BackupStore | BackupEvents | Scope.Scope>) =>
  withServer((ctx) =>
    f(ctx).pipe(
      Effect.provide(engineLayer(Layer.mergeAll(homeserverLayer(ctx.url, ctx.identity), deviceKeysLayer(ctx.identity), BackupStore.layerMemory))),
    ),
  )

/** Records every state the engine goes through (forked; read it after the action). */
const record = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine
  const seen: Array<BackupState> = []
  const fiber = yield* Effect.forkScoped(Stream.runForEach(engine.stateChanges, (s) => Effect.sync(() => void seen.push(s))))
  yield* eventually(() => expect(seen.length).toBeGreaterThan(0))
  return { seen, tags: () => seen.map((s) => s._tag), fiber }
})

describe("engine state transitions", () => {
  it.scopedLive("Unknown → Checking → Disabled(NoBackup)", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine
        const r = yield* record
        yield* engine.checkKeyBackupAndEnable()
        yield* eventually(() => expect(r.seen).toEqual([{ _tag: "Unknown" }, { _tag: "Checking" }, { _tag: "Disabled", reason: "NoBackup" }]))
      }),
    ),
  )

  it.scopedLive("Enabled → Uploading(remaining…) → Enabled, with exact remaining counts", () =>
    run(() =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* engine.waitForBackupSteadyState()
        const r = yield* record
        yield* engine.addRoomKeys(roomKeys(2 * DEFAULT_BATCH_SIZE + 7))
        yield* engine.waitForBackupSteadyState()
        yield* eventually(() =>
          expect(r.seen.filter((s) => s._tag === "Uploading")).toEqual([
            { _tag: "Uploading", version: "1", remaining: DEFAULT_BATCH_SIZE + 7 },
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
        const engine = yield* KeyBackupEngine
        yield* engine.resetKeyBackup()
        const r = yield* record
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 7, times: 3, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 500, times: 6, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* engine.addRoomKeys(roomKeys(10))
        yield* engine.waitForBackupSteadyState()
        const errors = r.seen.filter((s) => s._tag === "Error")
        expect(errors[0]).toEqual({ _tag: "Error", reason: "RateLimited", version: "1", errcode: "M_LIMIT_EXCEEDED", retryInMs: 7 })
        // Both faults count the first three requests (the 429 wins); the next three get 500s: the adapter gives up, the engine backs off.
        expect(errors.some((s) => s._tag === "Error" && s.reason === "UploadFailed" && s.errcode === "M_UNKNOWN")).toBe(true)
        expect(r.seen.at(-1)).toMatchObject({ _tag: "Enabled" })
      }),
    ),
  )

  it.scopedLive("a failed check with uploads off → Error(CheckFailed); with uploads on, nothing changes", () =>
    run(({ admin }) =>
      Effect.gen(function* () {
        const engine = yield* KeyBackupEngine
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
        const engine = yield* KeyBackupEngine
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
        const engine = yield* KeyBackupEngine
        yield* engine.resetKeyBackup()
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 500, match: { method: "PUT", path: "/room_keys/keys" } }))
        yield* engine.addRoomKeys(roomKeys(4))
        const error = yield* Effect.flip(engine.waitForBackupSteadyState({ timeoutMs: 300 }))
        expect(error).toMatchObject({ reason: "Timeout", remaining: 4 })
      }),
    ),
  )
})

describe("upload settings and request building", () => {
  it("backoff doubles from the base and stops at the cap (1, 2, 4, 8, 16, 16 s by default)", () => {
    const settings = resolveUploadOptions()
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(settings, n)).map((d) => d.value)).toEqual(
      [1000, 2000, 4000, 8000, 16000, 16000, 16000].map((millis) => ({ _tag: "Millis", millis })),
    )
    expect(resolveUploadOptions({ batchSize: 0 }).batchSize).toBe(1)
    expect(resolveUploadOptions().batchSize).toBe(100)
  })

  it("the plaintext is the session export with sender data and m.shared_history; the envelope follows matrix-rust-sdk", () => {
    const [key] = roomKeys(1)
    if (key === undefined) throw new Error("test: no key")
    const shared = { ...key, sharedHistory: true, imported: true, firstKnownIndex: 5, extra: { untrusted: true } }
    expect(JSON.parse(new TextDecoder().decode(plaintextOf(shared)))).toEqual({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: key.senderKey,
      session_key: key.sessionKey,
      sender_claimed_keys: key.senderClaimedKeys,
      forwarding_curve25519_key_chain: [],
      "m.shared_history": true,
      untrusted: true,
    })
    expect(envelopeOf(shared, { x: 1 })).toEqual({ first_message_index: 5, forwarded_count: 1, is_verified: false, session_data: { x: 1 } })
    expect(envelopeOf(key, {}).forwarded_count).toBe(0)
  })

  it("activeVersionOf reads the version uploads target", () => {
    expect(activeVersionOf({ _tag: "Uploading", version: "3", remaining: 1 })).toBe("3")
    expect(activeVersionOf({ _tag: "Disabled", reason: "NotTrusted", version: "3" })).toBeUndefined()
  })
})
