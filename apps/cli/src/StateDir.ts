/**
 * The device's state directory: its SQLite store and its Ed25519 signing seed (`device.json`), both mode 0600.
 * One directory belongs to one user and device; using it for another is refused rather than mixed up.
 */
import { Base64 } from "@matrix-backup/core"
import { Effect, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { CliError } from "./CliError.js"

/** The device identity kept in the state directory. */
export interface DeviceState {
  readonly dir: string
  readonly storeFile: string
  readonly userId: string
  readonly deviceId: string
  /** The public key is derived from it only when needed (DeviceKeys): that costs tens of ms at start-up. */
  readonly seed: Redacted.Redacted<Uint8Array>
}

const DeviceFile = Schema.parseJson(Schema.Struct({ userId: Schema.String, deviceId: Schema.String, ed25519Seed: Schema.String }))

/** `$XDG_STATE_HOME/matrix-backup/<user>/<device>` (or `~/.local/state/...`) when `--state` is not given. */
export const defaultStateDir = (userId: string, deviceId: string): string => {
  const base = process.env["XDG_STATE_HOME"] ?? join(homedir(), ".local", "state")
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_")
  return join(base, "matrix-backup", safe(userId), safe(deviceId))
}

const stateError = (message: string) => new CliError({ code: "State", message })

const readDevice = (file: string) =>
  Effect.try({ try: () => readFileSync(file, "utf8"), catch: () => stateError(`Cannot read ${file}`) }).pipe(
    Effect.flatMap((text) =>
      Effect.mapError(Schema.decodeUnknown(DeviceFile)(text), () => stateError(`${file} is damaged`)),
    ),
  )

const writeDevice = (file: string, userId: string, deviceId: string, seed: Uint8Array) =>
  Effect.try({
    try: () => {
      const text = JSON.stringify({ userId, deviceId, ed25519Seed: Base64.encodeBase64(seed) }, null, 2)
      writeFileSync(file, text + "\n", { mode: 0o600, flag: "wx" })
    },
    catch: () => stateError(`Cannot write ${file}`),
  })

/** Opens (creating on first use) the state directory of `userId`/`deviceId`. */
export const openStateDir = (dir: string, userId: string, deviceId: string): Effect.Effect<DeviceState, CliError> =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => {
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        chmodSync(dir, 0o700)
      },
      catch: () => stateError(`Cannot create the state directory ${dir}`),
    })
    const file = join(dir, "device.json")
    if (!existsSync(file)) yield* writeDevice(file, userId, deviceId, randomBytes(32))
    const device = yield* readDevice(file)
    if (device.userId !== userId || device.deviceId !== deviceId) {
      return yield* stateError(`${dir} belongs to ${device.userId} device ${device.deviceId}; use another --state directory`)
    }
    const seed = Base64.decodeBase64(device.ed25519Seed)
    if (seed === undefined || seed.length !== 32) return yield* stateError(`${file} is damaged`)
    const storeFile = join(dir, "store.sqlite")
    return {
      dir,
      storeFile,
      userId,
      deviceId,
      seed: Redacted.make(seed),
    }
  })

/** Restricts the SQLite files to the owner once they exist. */
export const protectStoreFiles = (state: DeviceState): Effect.Effect<void> =>
  Effect.sync(() => {
    for (const suffix of ["", "-wal", "-shm"]) {
      const path = state.storeFile + suffix
      if (existsSync(path)) chmodSync(path, 0o600)
    }
  })
