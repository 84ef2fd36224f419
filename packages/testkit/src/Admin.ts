// FakeHomeserverAdmin: test-side control of the fake server (faults, direct state access, seeding).
// `makeLocalAdmin` works on the in-memory core; `connectAdmin(url)` speaks `/_testkit/...` over HTTP.
import { BackupInfo } from "@matrix-backup/core"
import type { Fault } from "./server/Faults.js"
import type { Homeserver, RequestLogEntry } from "./server/Homeserver.js"
import { b64, generateKeyPair } from "./fixtures/NodeCrypto.js"
import { isObject } from "./server/Http.js"
import { keyJson, storeKey } from "./server/routes/RoomKeyStore.js"
import { versionInfo } from "./server/routes/RoomKeyVersions.js"
import type { User } from "./server/State.js"
import { createBackup, findBackup } from "./server/State.js"

/** The `m.megolm_backup.v1.curve25519-aes-sha2` algorithm name (core's constant, under testkit's older name). */
export const MEGOLM_BACKUP_V1 = BackupInfo.MEGOLM_BACKUP_V1_CURVE25519

/** A `KeyBackupData` object as stored and served. */
export interface KeyBackupData {
  readonly first_message_index: number
  readonly forwarded_count: number
  readonly is_verified: boolean
  readonly session_data: unknown
}

/** One stored room key. */
export interface StoredRoomKey {
  readonly roomId: string
  readonly sessionId: string
  readonly data: KeyBackupData
}

/** One backup version row, deleted ones included. */
export interface BackupVersionRow {
  readonly version: string
  readonly algorithm: string
  readonly auth_data: unknown
  readonly count: number
  readonly etag: string
  readonly deleted: boolean
}

/** Test-side control of a fake homeserver. Every method is async so the HTTP client fits the same shape. */
export interface FakeHomeserverAdmin {
  /** Adds a fault; returns its id. */
  readonly injectFault: (fault: Fault) => Promise<string>
  /** Removes one fault. */
  readonly removeFault: (id: string) => Promise<void>
  /** Removes every fault. */
  readonly clearFaults: () => Promise<void>
  /** Resolves once `count` (default 1) requests in total reached hold fault `faultId`; gives the number held now. */
  readonly awaitHeld: (faultId: string, count?: number) => Promise<number>
  /** Lets every request held by hold fault `faultId` go on; gives how many. The fault stays in force. */
  readonly releaseHeld: (faultId: string) => Promise<number>
  /** All keys stored in a version (live or deleted), in insertion order. */
  readonly roomKeys: (userId: string, version: string) => Promise<ReadonlyArray<StoredRoomKey>>
  /** Inserts keys directly (no replacement rule, no etag change): fast seeding. */
  readonly insertRoomKeys: (userId: string, version: string, keys: ReadonlyArray<StoredRoomKey>) => Promise<void>
  /** Every version ever created for the user, oldest first. */
  readonly backupVersions: (userId: string) => Promise<ReadonlyArray<BackupVersionRow>>
  /** Global account data content, or undefined if never set. */
  readonly accountData: (userId: string, type: string) => Promise<unknown>
  /** Sets global account data as if a client had PUT it (shows up in /sync). */
  readonly setAccountData: (userId: string, type: string, content: Record<string, unknown>) => Promise<void>
  /** Creates a new backup version now, as if another device had reset the backup; returns the version. */
  readonly resetBackupAsOtherDevice: (userId: string, algorithm?: string, authData?: unknown) => Promise<string>
  /** Every non-admin request so far: method, path, query, status and the faults that fired. */
  readonly requestLog: () => Promise<ReadonlyArray<RequestLogEntry>>
  /** Empties the request log. */
  readonly clearRequestLog: () => Promise<void>
}

/** A fresh random Curve25519 public key (unpadded base64), for backups "made elsewhere". */
export const randomBackupPublicKey = (): string => b64(generateKeyPair("x25519").publicKey)

const userOf = (server: Homeserver, userId: string): User => {
  const user = server.state.users.get(userId)
  if (user === undefined) throw new Error(`fake homeserver: no such user ${userId}`)
  return user
}

const toStored = (key: KeyBackupData) => ({
  firstMessageIndex: key.first_message_index,
  forwardedCount: key.forwarded_count,
  isVerified: key.is_verified,
  sessionData: JSON.stringify(key.session_data),
})

/** The admin API over an in-memory core (synchronous work wrapped in promises). */
export const makeLocalAdmin = (server: Homeserver): FakeHomeserverAdmin => {
  const run = <A>(f: () => A): Promise<A> => new Promise((resolve) => resolve(f()))
  const backupOf = (userId: string, version: string) => {
    const backup = findBackup(userOf(server, userId), version)
    if (backup === undefined) throw new Error(`fake homeserver: no backup version ${version} for ${userId}`)
    return backup
  }
  return {
    injectFault: (fault) => run(() => server.faults.add(fault)),
    removeFault: (id) => run(() => void server.faults.remove(id)),
    clearFaults: () => run(() => server.faults.clear()),
    awaitHeld: async (faultId, count = 1) => server.faults.awaitHeld(faultId, count),
    releaseHeld: (faultId) => run(() => server.faults.release(faultId)),
    roomKeys: (userId, version) =>
      run(() => {
        const out: Array<StoredRoomKey> = []
        for (const [roomId, sessions] of backupOf(userId, version).rooms) {
          for (const [sessionId, key] of sessions) out.push({ roomId, sessionId, data: JSON.parse(keyJson(key)) })
        }
        return out
      }),
    insertRoomKeys: (userId, version, keys) =>
      run(() => {
        const backup = backupOf(userId, version)
        for (const key of keys) storeKey(backup, key.roomId, key.sessionId, toStored(key.data))
        server.bump()
      }),
    backupVersions: (userId) =>
      run(() => userOf(server, userId).backups.map((backup) => ({ ...versionInfo(backup), deleted: backup.deleted }))),
    accountData: (userId, type) => run(() => userOf(server, userId).accountData.get(type)?.content),
    setAccountData: (userId, type, content) =>
      run(() => {
        const user = userOf(server, userId)
        user.accountData.set(type, { content, pos: server.state.stream + 1 })
        server.bump()
      }),
    resetBackupAsOtherDevice: (userId, algorithm, authData) =>
      run(() => {
        const auth = authData ?? { public_key: randomBackupPublicKey() }
        const backup = createBackup(server.state, userOf(server, userId), server.profile, algorithm ?? MEGOLM_BACKUP_V1, isObject(auth) ? { ...auth } : auth)
        server.bump()
        return String(backup.version)
      }),
    requestLog: () => run(() => [...server.log]),
    clearRequestLog: () => run(() => void server.log.splice(0)),
  }
}
