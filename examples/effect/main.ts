// An Effect program on the custom stack: reads the login with Config, finds or creates the key backup, and reports
// the engine's state. The Layer is built once and released when the program ends (the SQLite file is closed).
import { KeyBackupEngine } from "@matrix-backup/core"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import { Config, Console, Effect, Layer, Option, Redacted } from "effect"
import { deviceStack } from "./DeviceStack.js"

const login = Config.all({
  baseUrl: Config.string("MATRIX_HOMESERVER"),
  accessToken: Config.redacted("MATRIX_ACCESS_TOKEN"),
  userId: Config.string("MATRIX_USER_ID"),
  deviceId: Config.string("MATRIX_DEVICE_ID"),
  deviceSeed: Config.map(Config.redacted("MATRIX_DEVICE_SIGNING_KEY"), (seed) => Redacted.make(Uint8Array.from(Buffer.from(Redacted.value(seed), "base64")))),
})

const program = Effect.gen(function* () {
  const engine = yield* KeyBackupEngine.KeyBackupEngine
  const check = yield* engine.checkKeyBackupAndEnable()
  if (Option.isNone(check)) yield* engine.resetKeyBackup()
  const state = yield* engine.state
  yield* Console.log(`Backup engine: ${state._tag}, version ${Option.getOrElse(yield* engine.getActiveSessionBackupVersion(), () => "none")}`)
})

const stack = Layer.unwrapEffect(Effect.map(login, (device) => deviceStack(device, SqliteBackupStore.layer({ filename: "keys.sqlite" }))))
await Effect.runPromise(program.pipe(Effect.provide(stack)))
