/**
 * Uploads every key not yet backed up to the active version: pages of pending keys, encrypted to the backup
 * public key in `workers` parallel batches, `PUT /room_keys/keys`, then marked backed up in one transaction
 * each. A key leaves "pending" only after the server accepted it (DESIGN.md §3, PROTOCOL.md §3.3, §3.7).
 */
import { BackupStore, CryptoBackend, HomeserverApi, type Ids, type KeyBackupData, RoomKey } from "@matrix-backup/core"
import { Effect } from "effect"
import { toCliError } from "../CliError.js"
import type { Progress } from "../Progress.js"

/** Where to upload: the version and its (trusted) public key. */
export interface Target {
  readonly version: Ids.BackupVersion
  readonly publicKey: Uint8Array
}

/** Options of `uploadPending`. */
export interface UploadOptions {
  /** Keys per request (default 250). */
  readonly batchSize?: number
  /** Requests in flight (default 2). */
  readonly workers?: number
}

const encoder = new TextEncoder()

/** The backup plaintext of a stored key (PROTOCOL.md §3.6): the export without room and session ids. */
const plaintext = (key: RoomKey.RoomKey): Uint8Array => {
  const { room_id: _room, session_id: _session, first_known_index: _index, ...rest } = RoomKey.toExported(key)
  return encoder.encode(JSON.stringify(rest))
}

const uploadBatch = (target: Target, keys: ReadonlyArray<BackupStore.PendingRoomKey>) =>
  Effect.gen(function* () {
    const crypto = yield* CryptoBackend.CryptoBackend
    const api = yield* HomeserverApi.HomeserverApi
    const store = yield* BackupStore.BackupStore
    const encrypted = yield* crypto.encryptSessions(target.publicKey, keys.map(plaintext))
    const rooms: Record<string, { sessions: Record<string, KeyBackupData.KeyBackupData> }> = {}
    keys.forEach((key, i) => {
      const session_data = encrypted[i]
      if (session_data === undefined) return
      const room = (rooms[key.roomId] ??= { sessions: {} })
      room.sessions[key.sessionId] = {
        first_message_index: key.firstKnownIndex,
        forwarded_count: key.forwardingCurve25519KeyChain.length + (key.imported ? 1 : 0),
        is_verified: false,
        session_data,
      }
    })
    yield* api.putRoomKeys(target.version, { rooms } as KeyBackupData.KeysBackupRequest)
    return yield* store.markBackedUp(target.version, keys)
  })

/** Uploads until nothing is pending; returns how many keys were marked backed up. */
export const uploadPending = (target: Target, progress: Progress, options: UploadOptions = {}) =>
  Effect.gen(function* () {
    const store = yield* BackupStore.BackupStore
    const batchSize = options.batchSize ?? 250
    const workers = Math.max(1, options.workers ?? 2)
    const initial = yield* store.countPending(target.version)
    let uploaded = 0
    yield* progress.update(0, initial)
    for (;;) {
      const page = yield* store.pendingRoomKeys(target.version, batchSize * workers)
      if (page.length === 0) break
      const batches: Array<ReadonlyArray<BackupStore.PendingRoomKey>> = []
      for (let i = 0; i < page.length; i += batchSize) batches.push(page.slice(i, i + batchSize))
      const marked = yield* Effect.forEach(batches, (batch) => uploadBatch(target, batch), { concurrency: workers })
      uploaded += marked.reduce((a, b) => a + b, 0)
      yield* progress.update(uploaded, Math.max(initial, uploaded))
    }
    yield* progress.finish
    return uploaded
  }).pipe(Effect.mapError(toCliError))
