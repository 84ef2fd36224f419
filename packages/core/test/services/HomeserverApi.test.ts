import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Stream } from "effect"
import { BackupVersion } from "../../src/schema/Ids.js"
import { HomeserverApi, layerTest } from "../../src/services/HomeserverApi.js"
import { BackupNotFound } from "../../src/services/HomeserverError.js"

describe("HomeserverApi.layerTest", () => {
  it.effect("serves the provided methods", () =>
    Effect.gen(function* () {
      const api = yield* HomeserverApi
      expect(Option.isNone(yield* api.getAccountData("m.key_backup"))).toBe(true)
      const error = yield* Effect.flip(api.getBackupVersion())
      expect(error._tag).toBe("BackupNotFound")
    }).pipe(
      Effect.provide(
        layerTest({
          getAccountData: () => Effect.succeed(Option.none()),
          getBackupVersion: () => Effect.fail(new BackupNotFound({ message: "No backup found" })),
        }),
      ),
    ),
  )

  it.effect("dies with the name of a missing method, for effects and streams", () =>
    Effect.gen(function* () {
      const api = yield* HomeserverApi
      const exit = yield* Effect.exit(api.deleteBackupVersion(BackupVersion.make("1")))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("HomeserverApi.deleteBackupVersion")
      const streamExit = yield* Effect.exit(Stream.runDrain(api.streamRoomKeys(BackupVersion.make("1"))))
      expect(Exit.isFailure(streamExit) && Cause.isDie(streamExit.cause)).toBe(true)
      expect(Exit.isFailure(streamExit) && Cause.pretty(streamExit.cause)).toContain("HomeserverApi.streamRoomKeys")
    }).pipe(Effect.provide(layerTest({}))),
  )
})
