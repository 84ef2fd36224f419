// The fake homeserver's whole state: users, devices, tokens, account data, cross-signing keys and
// key backups, plus a stream counter that orders changes for `/sync` long-polls.
import type { JsonObject } from "./Http.js"
import type { ServerProfile } from "./Profile.js"

/** One stored room key, as Synapse keeps it: `session_data` stays serialized JSON text. */
export interface StoredKey {
  readonly firstMessageIndex: number
  readonly forwardedCount: number
  readonly isVerified: boolean
  readonly sessionData: string
}

/** One backup version row (soft-deleted rows are kept so numbers are never reused). */
export interface BackupVersion {
  readonly version: number
  readonly algorithm: string
  authData: unknown
  etag: number
  deleted: boolean
  count: number
  /** The count a `staleAfterUpload` profile reports (set on create and auth_data update; not persisted). */
  countShown?: number
  readonly rooms: Map<string, Map<string, StoredKey>>
}

/** A device and its end-to-end keys. */
export interface Device {
  readonly deviceId: string
  displayName: string | undefined
  keys: JsonObject | undefined
  readonly oneTimeKeys: Map<string, unknown>
  readonly fallbackKeys: Map<string, { keyId: string; key: unknown; used: boolean }>
  readonly toDevice: Array<{ pos: number; event: JsonObject }>
}

/** One account-data entry with the stream position of its last change. */
export interface AccountDataEntry {
  content: JsonObject
  pos: number
}

/** A user account. */
export interface User {
  readonly userId: string
  password: string | undefined
  readonly devices: Map<string, Device>
  readonly accountData: Map<string, AccountDataEntry>
  readonly roomAccountData: Map<string, Map<string, AccountDataEntry>>
  readonly backups: Array<BackupVersion>
  readonly crossSigning: Map<"master" | "self_signing" | "user_signing", JsonObject>
  readonly filters: Array<unknown>
  /** Stream position of the last change to this user's device list or cross-signing keys. */
  deviceListPos: number
}

/** A live access token. */
export interface Session {
  readonly userId: string
  readonly deviceId: string
}

/** Everything the server knows. */
export interface State {
  readonly serverName: string
  readonly users: Map<string, User>
  readonly tokens: Map<string, Session>
  /** Completed user-interactive auth sessions, by session id. */
  readonly uia: Map<string, { readonly userId: string | undefined; completed: boolean }>
  /** Transaction ids already seen (`PUT /sendToDevice/{type}/{txnId}` is idempotent per token). */
  readonly txnIds: Set<string>
  stream: number
  nextId: number
}

/** An empty state for `serverName`. */
export const makeState = (serverName: string): State => ({
  serverName,
  users: new Map(),
  tokens: new Map(),
  uia: new Map(),
  txnIds: new Set(),
  stream: 1,
  nextId: 1,
})

/** A new user record. */
export const makeUser = (userId: string, password: string | undefined): User => ({
  userId,
  password,
  devices: new Map(),
  accountData: new Map(),
  roomAccountData: new Map(),
  backups: [],
  crossSigning: new Map(),
  filters: [],
  deviceListPos: 0,
})

/** A new device record. */
export const makeDevice = (deviceId: string, displayName: string | undefined): Device => ({
  deviceId,
  displayName,
  keys: undefined,
  oneTimeKeys: new Map(),
  fallbackKeys: new Map(),
  toDevice: [],
})

/** The highest live version, Synapse's "current" backup. */
export const currentBackup = (user: User): BackupVersion | undefined => {
  for (let i = user.backups.length - 1; i >= 0; i--) {
    const candidate = user.backups[i]
    if (candidate !== undefined && !candidate.deleted) return candidate
  }
  return undefined
}

/**
 * The version a profile calls "latest": Synapse's highest live one, conduwuit's highest in string order ("9" after
 * "10"), or Dendrite's highest ever, which may be deleted (callers then answer 404, or 500 to an upload).
 */
export const latestBackup = (user: User, profile: ServerProfile): BackupVersion | undefined => {
  if (profile.latest === "highestIncludingDeleted") return user.backups[user.backups.length - 1]
  if (profile.latest === "highestLive") return currentBackup(user)
  let best: BackupVersion | undefined
  for (const candidate of user.backups) {
    if (!candidate.deleted && (best === undefined || String(candidate.version) > String(best.version))) best = candidate
  }
  return best
}

/** A version by its path string; non-integer strings never exist (Synapse parses with int()). */
export const findBackup = (user: User, version: string): BackupVersion | undefined => {
  const number = versionNumber(version)
  return number === undefined ? undefined : user.backups.find((backup) => backup.version === number)
}

/** The number a version string names, read like Python's int() ("01" and " 1" name 1); undefined for others. */
export const versionNumber = (version: string): number | undefined =>
  /^\s*[+-]?\d+\s*$/.test(version) ? Number.parseInt(version, 10) : undefined

/**
 * The number after the highest version ever made: the user's own (Synapse), or any user's (Dendrite's one serial); or
 * the creation time in milliseconds (Palpo), kept above the user's last version should two come in one millisecond.
 */
const nextVersion = (state: State, user: User, profile: ServerProfile): number => {
  const highest = (of: User): number => of.backups[of.backups.length - 1]?.version ?? 0
  if (profile.versionNumbers === "perUser") return highest(user) + 1
  if (profile.versionNumbers === "creationMillis") return Math.max(Date.now(), highest(user) + 1)
  let max = 0
  for (const other of state.users.values()) max = Math.max(max, highest(other))
  return max + 1
}

/** Creates a version numbered after every earlier one (deleted included), as the profile draws numbers. */
export const createBackup = (state: State, user: User, profile: ServerProfile, algorithm: string, authData: unknown): BackupVersion => {
  const backup: BackupVersion = {
    version: nextVersion(state, user, profile),
    algorithm,
    authData,
    etag: 0,
    deleted: false,
    count: 0,
    countShown: 0,
    rooms: new Map(),
  }
  user.backups.push(backup)
  return backup
}
