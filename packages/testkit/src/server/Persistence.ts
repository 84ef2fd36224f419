// Optional persistence of the whole state to one JSON file, written atomically (temp file, fsync,
// rename) and debounced, so a killed server leaves either the old or the new file, never a torn one.
import { existsSync, readFileSync } from "node:fs"
import { open, rename } from "node:fs/promises"
import type { Homeserver } from "./Homeserver.js"
import { FORMAT, deserializeState } from "./PersistedState.js"
import type { BackupVersion, State, User } from "./State.js"

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
