/** Options shared by the commands: connection (flags or environment), state directory, `--json`, secrets, paths. */
import { Ids } from "@matrix-backup/core"
import { Effect, Schema } from "effect"
import { isAbsolute, resolve } from "node:path"
import * as Opt from "./args/Options.js"
import { CliError } from "./CliError.js"

/** `--json`. */
export const json = Opt.flag("Print the result as one JSON document on stdout; a failure is one JSON line on stderr")

/** `--force`, for steps that replace or delete something. */
export const force = (what: string) => Opt.flag(`${what} without asking`)

/** Where and as whom. */
export const connection = {
  homeserver: Opt.optionalText("URL", "Homeserver base URL", "MATRIX_HOMESERVER"),
  accessToken: Opt.secret("TOKEN", "Access token, never printed; asked for when missing on a terminal", "MATRIX_ACCESS_TOKEN"),
  userId: Opt.optionalText("ID", "Matrix user id, checked against the token (default: the token's)"),
  deviceId: Opt.optionalText("ID", "Device id (default: the token's)"),
  state: Opt.optionalText("DIR", "This device's store and signing key (default: ~/.local/state/matrix-backup/<user>/<device>)"),
}

/** The secret that opens the backup: the recovery key or the Secret Storage passphrase. */
export const secrets = {
  recoveryKey: Opt.secret("KEY", "Recovery key, with or without spaces", "MATRIX_RECOVERY_KEY"),
  passphrase: Opt.secret("PASSPHRASE", "Secret Storage passphrase, instead of the recovery key", "MATRIX_RECOVERY_PASSPHRASE"),
}

/** `--room ID`, repeatable. */
export const rooms = Opt.list("ROOM", "Only this room")

/** `--room` values checked as room ids (`!opaque:server`), or a usage error naming the one that is not. */
export const roomIds = (rooms: ReadonlyArray<string>): Effect.Effect<Array<string>, CliError> =>
  Effect.forEach([...new Set(rooms)], (room) =>
    Effect.mapError(
      Schema.decodeUnknown(Ids.RoomId)(room),
      () => new CliError({ code: "Usage", message: `--room takes a room id such as !abc:example.org, not "${room}"` }),
    ),
  )

/** `--export-passphrase`: the passphrase of an Element key file. */
export const exportPassphrase = Opt.secret("PASSPHRASE", "Passphrase of the Element key file; asked for on a terminal", "MATRIX_EXPORT_PASSPHRASE")

/** How a restore decrypts. */
export const decryption = {
  concurrency: Opt.integer("N", "Batches of keys decrypted at once", { default: 4, min: 1 }),
  threads: Opt.integer("N", "Worker threads that decrypt (0: on the main thread)", { default: 1, min: 0 }),
}

/** A path as the user meant it: under `pnpm matrix-backup` relative to where pnpm was started (INIT_CWD), not apps/cli. */
export const userPath = (path: string): string => {
  if (isAbsolute(path)) return path
  const base = process.env["npm_lifecycle_event"] === "matrix-backup" ? (process.env["INIT_CWD"] ?? process.cwd()) : process.cwd()
  return resolve(base, path)
}

/** `userPath` over an optional path. */
export const optionalPath = (path: string | undefined): string | undefined => (path === undefined ? undefined : userPath(path))
