/**
 * What `demo` does (see Demo.ts): loaded only when the command runs, since it brings the fake homeserver and its
 * HTTP server, which no other command needs, and would slow every command's start-up.
 */
import { BackupStore, Ids, RoomKey } from "@matrix-backup/core"
import { generateRoomKeys, loginNewDevice, registerUser, startFakeHomeserver } from "@matrix-backup/testkit"
import { Duration, Effect, Redacted, Schema, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createWithNewSecretStorage } from "../backup/Create.js"
import { restore, round } from "../backup/Restore.js"
import { unlockAndKeep } from "../backup/Unlock.js"
import { backUp } from "../backup/Upload.js"
import type { Values } from "../args/Options.js"
import { CliError } from "../CliError.js"
import { apiLayer } from "../Connection.js"
import { formatFailures } from "../Format.js"
import { type OutputMode, runCommand, say } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { deviceLayer } from "../Session.js"
import { openStateDir } from "../StateDir.js"
import type { DemoOptions } from "./Demo.js"

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([duration, value]) => [round(Duration.toMillis(duration) / 1000), value] as const)

const decodeExported = Schema.decodeUnknownSync(RoomKey.ExportedRoomKey)

/** Registers the account and its two devices on a fresh fake homeserver. */
const accounts = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = await startFakeHomeserver()
    const first = await registerUser(server.url, { deviceId: "DEMOPHONE" })
    const second = await loginNewDevice(server.url, first, { deviceId: "DEMOLAPTOP" })
    return { server, first, second }
  }),
  ({ server }) => Effect.promise(() => server.stop()),
)

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "matrix-backup-demo-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

type Original = ReturnType<typeof generateRoomKeys>[number]

/** The restored key is the original one (session, sender, claimed keys, index). */
const sameKey = (original: Original, key: RoomKey.RoomKey): boolean =>
  original.session_key === key.sessionKey &&
  original.sender_key === key.senderKey &&
  original.algorithm === key.algorithm &&
  original.sender_claimed_keys.ed25519 === key.senderClaimedKeys["ed25519"] &&
  key.firstKnownIndex === 0

const MASK = " •••• •••• •••• •••• •••• •••• •••• •••• •••• •••• ••••"

/** The first device: 4S and a backup, then the keys backed up with a progress bar. */
const backupPhase = (mode: OutputMode, deviceId: string, originals: ReadonlyArray<Original>) =>
  Effect.gen(function* () {
    const created = yield* createWithNewSecretStorage(undefined)
    const masked = Redacted.value(created.recoveryKey).slice(0, 4) + MASK
    yield* say(mode, `${deviceId}: Secret Storage and backup version ${created.backupVersion} created; recovery key ${masked}`)
    const keys = originals.map((k) => RoomKey.fromExported(decodeExported(k), { source: "direct", imported: false }))
    const done = yield* backUp(keys, makeProgress("backup", keys.length, mode))
    return { recoveryKey: created.recoveryKey, uploaded: done.uploaded, seconds: round(done.seconds) }
  })

/** How many stored keys are identical to their originals. */
const countVerified = (originals: ReadonlyArray<Original>) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const byId = new Map(originals.map((k) => [`${k.room_id}|${k.session_id}`, k]))
    let verified = 0
    yield* Stream.runForEach(store.exportRoomKeys(), (key) =>
      Effect.sync(() => {
        const original = byId.get(`${key.roomId}|${key.sessionId}`)
        if (original !== undefined && sameKey(original, key)) verified++
      }),
    )
    return verified
  })

/** The second device: the recovery key opens 4S, everything is restored and checked. */
const restorePhase = (mode: OutputMode, deviceId: string, recoveryKey: Redacted.Redacted<string>, originals: ReadonlyArray<Original>, concurrency: number) =>
  Effect.gen(function* () {
    const { version } = yield* unlockAndKeep({ _tag: "RecoveryKey", value: recoveryKey })
    yield* say(mode, `${deviceId}: opened Secret Storage with that recovery key; restoring backup version ${version}`)
    const result = yield* restore(makeProgress("restore", originals.length, mode), { concurrency })
    return { ...result, verified: yield* countVerified(originals) }
  })

const demo = (mode: OutputMode, count: number, concurrency: number, threads: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { server, first, second } = yield* accounts
      const dir = yield* tempDir
      yield* say(mode, `Fake homeserver on ${server.url}; account ${first.userId} with devices ${first.deviceId} and ${second.deviceId}`)
      const userId = Schema.decodeSync(Ids.UserId)(first.userId)
      const deviceA = yield* openStateDir(join(dir, "phone"), first.userId, first.deviceId)
      const deviceB = yield* openStateDir(join(dir, "laptop"), second.userId, second.deviceId)
      const [generateSeconds, originals] = yield* timed(Effect.sync(() => generateRoomKeys(count)))
      const backedUp = yield* Effect.provide(
        backupPhase(mode, deviceA.deviceId, originals),
        deviceLayer(apiLayer(server.url, Redacted.make(first.accessToken), userId), deviceA),
      )
      const restored = yield* Effect.provide(
        restorePhase(mode, deviceB.deviceId, backedUp.recoveryKey, originals, concurrency),
        deviceLayer(apiLayer(server.url, Redacted.make(second.accessToken), userId), deviceB, { decryptThreads: threads }),
      )
      return {
        keys: count,
        backedUp: backedUp.uploaded,
        restored: restored.imported,
        verified: restored.verified,
        failures: restored.failures,
        seconds: { generate: generateSeconds, backup: backedUp.seconds, restore: restored.seconds },
        keysPerSecond: { backup: Math.round(backedUp.uploaded / Math.max(backedUp.seconds, 1e-3)), restore: restored.keysPerSecond },
      }
    }),
  )

const human = (r: Effect.Effect.Success<ReturnType<typeof demo>>) =>
  [
    "",
    "Summary",
    `  keys generated      ${r.keys.toLocaleString("en-US")} (${r.seconds.generate.toFixed(2)} s)`,
    `  backed up           ${r.backedUp.toLocaleString("en-US")} in ${r.seconds.backup.toFixed(2)} s (${r.keysPerSecond.backup.toLocaleString("en-US")} keys/s)`,
    `  restored            ${r.restored.toLocaleString("en-US")} in ${r.seconds.restore.toFixed(2)} s (${r.keysPerSecond.restore.toLocaleString("en-US")} keys/s)`,
    `  verified            ${r.verified.toLocaleString("en-US")} of ${r.keys.toLocaleString("en-US")} identical to the originals`,
    `  failures            ${formatFailures(r.failures)}`,
    r.verified === r.keys ? "\nEvery key came back intact." : "\nSome keys did not come back intact.",
  ].join("\n")

/** Runs the demo with the command's options. */
export const runDemo = (o: Values<DemoOptions>): Effect.Effect<void> => {
  const mode = { json: o.json }
  return runCommand(
    mode,
    Effect.flatMap(demo(mode, o.keys, o.concurrency, o.threads), (r) =>
      r.verified === r.keys ? Effect.succeed(r) : Effect.fail(new CliError({ code: "DemoMismatch", message: `Only ${r.verified} of ${r.keys} keys came back intact` })),
    ),
    { human, json: (r) => r },
  )
}
