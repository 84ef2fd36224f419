// Low-level room-key storage shared by the HTTP routes, the admin API and the seeding fixtures:
// keeps the per-version count in step with the maps so counting 100,000 keys costs nothing.
import type { BackupVersion, StoredKey } from "../State.js"

/** Inserts or replaces one key, keeping `count` exact. */
export const storeKey = (backup: BackupVersion, roomId: string, sessionId: string, key: StoredKey): void => {
  let room = backup.rooms.get(roomId)
  if (room === undefined) {
    room = new Map()
    backup.rooms.set(roomId, room)
  }
  if (!room.has(sessionId)) backup.count += 1
  room.set(sessionId, key)
}

/** Deletes all keys, one room's keys or one key. */
export const deleteKeys = (backup: BackupVersion, roomId: string | undefined, sessionId: string | undefined): void => {
  if (roomId === undefined) {
    backup.rooms.clear()
    backup.count = 0
    return
  }
  const room = backup.rooms.get(roomId)
  if (room === undefined) return
  if (sessionId === undefined) {
    backup.count -= room.size
    backup.rooms.delete(roomId)
    return
  }
  if (room.delete(sessionId)) backup.count -= 1
  if (room.size === 0) backup.rooms.delete(roomId)
}

/** The `KeyBackupData` JSON text of a stored key (`session_data` is already JSON text). */
export const keyJson = (key: StoredKey): string =>
  `{"first_message_index":${key.firstMessageIndex},"forwarded_count":${key.forwardedCount},` +
  `"is_verified":${key.isVerified},"session_data":${key.sessionData}}`
