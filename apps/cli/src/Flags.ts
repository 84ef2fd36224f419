/** Options shared by the commands: connection (flags or environment), state directory, `--json`, secrets. */
import { Options } from "@effect/cli"
import { Config, Option } from "effect"
import { isAbsolute, resolve } from "node:path"

/** `--json`: one JSON object as the last stdout line. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print one machine-readable JSON object as the last line"))

/** Where and as whom. */
export const connection = {
  homeserver: Options.text("homeserver").pipe(
    Options.withFallbackConfig(Config.string("MATRIX_HOMESERVER")),
    Options.withDescription("Homeserver base URL (or MATRIX_HOMESERVER)"),
  ),
  accessToken: Options.redacted("access-token").pipe(
    Options.withFallbackConfig(Config.redacted("MATRIX_ACCESS_TOKEN")),
    Options.withDescription("Access token (or MATRIX_ACCESS_TOKEN); never printed"),
  ),
  userId: Options.text("user-id").pipe(Options.optional, Options.withDescription("Matrix user id (default: from whoami)")),
  deviceId: Options.text("device-id").pipe(Options.optional, Options.withDescription("Device id (default: from whoami)")),
  state: Options.text("state").pipe(
    Options.optional,
    Options.withDescription("State directory: the device's SQLite store and signing key (default: ~/.local/state/matrix-backup/<user>/<device>)"),
  ),
}

/** `--recovery-key` / `--passphrase` to open the backup (one of them), also from the environment. */
export const secret = {
  recoveryKey: Options.redacted("recovery-key").pipe(
    Options.withFallbackConfig(Config.redacted("MATRIX_RECOVERY_KEY")),
    Options.optional,
    Options.withDescription("Recovery key, with or without spaces (or MATRIX_RECOVERY_KEY)"),
  ),
  passphrase: Options.redacted("passphrase").pipe(
    Options.withFallbackConfig(Config.redacted("MATRIX_RECOVERY_PASSPHRASE")),
    Options.optional,
    Options.withDescription("Secret Storage passphrase (or MATRIX_RECOVERY_PASSPHRASE)"),
  ),
}

/** `--room ID`, repeatable. */
export const rooms = Options.text("room").pipe(Options.repeated, Options.withDescription("Only this room (repeatable)"))

/** `--format element|json`. */
export const format = Options.choice("format", ["element", "json"]).pipe(Options.withDefault("element" as const))

/** `--export-passphrase`: the passphrase of an Element key file. */
export const exportPassphrase = Options.redacted("export-passphrase").pipe(
  Options.withFallbackConfig(Config.redacted("MATRIX_EXPORT_PASSPHRASE")),
  Options.optional,
  Options.withDescription("Passphrase of the Element key file (or MATRIX_EXPORT_PASSPHRASE)"),
)

/** A path as the user meant it: under `pnpm matrix-backup` relative to the repository root (pnpm's INIT_CWD), not apps/cli. */
export const userPath = (path: string): string => {
  if (isAbsolute(path)) return path
  const base = process.env["npm_lifecycle_event"] === "matrix-backup" ? (process.env["INIT_CWD"] ?? process.cwd()) : process.cwd()
  return resolve(base, path)
}

/** `userPath` over an optional path. */
export const optionalPath = (path: Option.Option<string>): Option.Option<string> => Option.map(path, userPath)
