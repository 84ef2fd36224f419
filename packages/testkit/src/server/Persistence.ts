// Optional persistence of the whole state to one JSON file, written atomically (temp file, fsync,
// rename) and debounced, so a killed server leaves either the old or the new file, never a torn one.
import { existsSync, readFileSync } from "node:fs"
import { open, rename } from "node:fs/promises"
import type { Homeserver } from "./Homeserver.js"
import type { BackupVersion, Device, State, StoredKey, User } from "./State.js"

const FORMAT = 1

const entries = <K, V, R>(map: Map<K, V>, f: (value: V) => R): Array<[K, R]> => [...map].map(([key, value]) => [key, f(value)])

const backupToJson = (backup: BackupVersion) => ({
  ...backup,
  rooms: entries(backup.rooms, (sessions) => entries(sessions, (key) => [key.firstMessageIndex, key.forwardedCount, key.isVerified, key.sessionData])),
})

const userToJson = (user: User) => ({
  ...user,
  devices: [...user.devices.values()].map((device) => ({ ...device, oneTimeKeys: [...device.oneTimeKeys], fallbackKeys: [...device.fallbackKeys] })),
  accountData: [...user.accountData],
  roomAccountData: entries(user.roomAccountData, (map) => [...map]),
  backups: user.backups.map(backupToJson),
  crossSigning: [...user.crossSigning],
})

/** The state as JSON text. */
export const serializeState = (state: State): string =>
  JSON.stringify({ format: FORMAT, ...state, users: [...state.users.values()].map(userToJson), tokens: [...state.tokens], uia: [], txnIds: [...state.txnIds] })

// The file is our own output; it is read back structurally without re-validating every field.
type Loaded = ReturnType<typeof JSON.parse>

const deviceFromJson = (raw: Loaded): Device => ({ ...raw, oneTimeKeys: new Map(raw.oneTimeKeys), fallbackKeys: new Map(raw.fallbackKeys) })

const keyFromJson = ([firstMessageIndex, forwardedCount, isVerified, sessionData]: Loaded): StoredKey => ({ firstMessageIndex, forwardedCount, isVerified, sessionData })

const backupFromJson = (raw: Loaded): BackupVersion => ({
  ...raw,
  rooms: new Map(raw.rooms.map(([roomId, sessions]: Loaded) => [roomId, new Map(sessions.map(([id, key]: Loaded) => [id, keyFromJson(key)]))])),
})

const userFromJson = (raw: Loaded): User => ({
  ...raw,
  devices: new Map(raw.devices.map((device: Loaded) => [device.deviceId, deviceFromJson(device)])),
  accountData: new Map(raw.accountData),
  roomAccountData: new Map(raw.roomAccountData.map(([roomId, list]: Loaded) => [roomId, new Map(list)])),
  backups: raw.backups.map(backupFromJson),
  crossSigning: new Map(raw.crossSigning),
})

/** Parses a state file; throws a clear error for anything that is not one. */
export const deserializeState = (text: string, file: string): State => {
  const raw: Loaded = JSON.parse(text)
  if (raw?.format !== FORMAT) throw new Error(`fake homeserver: ${file} is not a fake-homeserver state file (format ${FORMAT})`)
  return {
    serverName: raw.serverName,
    users: new Map(raw.users.map((user: Loaded) => [user.userId, userFromJson(user)])),
    tokens: new Map(raw.tokens),
    uia: new Map(),
    txnIds: new Set(raw.txnIds),
    stream: raw.stream,
    nextId: raw.nextId,
  }
}

/** Loads `file` into the core if it exists. */
export const loadInto = (core: Homeserver, file: string): void => {
  if (existsSync(file)) core.state = deserializeState(readFileSync(file, "utf8"), file)
}

const writeAtomically = async (file: string, text: string): Promise<void> => {
  const temp = `${file}.${process.pid}.tmp`
  const handle = await open(temp, "w")
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, file)
}

/** Debounced writer: `schedule()` after changes, `flush()` before stopping. */
export const makePersister = (core: Homeserver, file: string, debounceMs = 50) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  let writing: Promise<void> = Promise.resolve()
  const write = (): Promise<void> => {
    timer = undefined
    const text = serializeState(core.state)
    writing = writing.then(() => writeAtomically(file, text)).catch((error: unknown) => {
      console.error(`fake-homeserver: could not write ${file}: ${error instanceof Error ? error.message : "unknown error"}`)
    })
    return writing
  }
  return {
    schedule: (): void => {
      if (timer === undefined) timer = setTimeout(() => void write(), debounceMs)
    },
    flush: (): Promise<void> => {
      if (timer !== undefined) {
        clearTimeout(timer)
        return write()
      }
      return writing
    },
  }
}
