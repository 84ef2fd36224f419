// Seeding helpers shared by the restore tests: a backup on the fake with the private key cached in the store.
import { Effect, Redacted, Stream } from "effect"
import type { FakeHomeserverAdmin } from "@matrix-backup/testkit"
import { BackupStore, type RoomKey } from "@matrix-backup/core"
import type { ExportedRoomKey } from "./support.js"
import { generateRoomKeys, newBackupKey, seedBackup } from "./support.js"

/** A seeded backup: its version, private key and the plaintext keys it holds. */
export interface Seeded {
  readonly version: string
  readonly privateKey: Uint8Array
  readonly keys: ReadonlyArray<ExportedRoomKey>
}

/** Seeds `count` keys over `rooms` rooms (plus `extra` raw entries) into a new version. */
export const seed = (
  admin: FakeHomeserverAdmin,
  userId: string,
  options: { readonly count: number; readonly rooms?: number; readonly extra?: Parameters<typeof seedBackup>[2]["extraEntries"]; readonly privateKey?: Uint8Array },
): Effect.Effect<Seeded> =>
  Effect.promise(async () => {
    const privateKey = options.privateKey ?? newBackupKey()
    const keys = generateRoomKeys(options.count, { rooms: options.rooms ?? Math.max(1, Math.ceil(options.count / 50)) })
    const { version } = await seedBackup(admin, userId, { backupPrivateKey: privateKey, keys, ...(options.extra ? { extraEntries: options.extra } : {}) })
    return { version, privateKey, keys }
  })

/** Caches the seeded key in the store, as secret storage or the engine would. */
export const cacheKey = (seeded: Pick<Seeded, "privateKey" | "version">) =>
  Effect.flatMap(BackupStore.BackupStore, (store) => store.storeBackupDecryptionKey(Redacted.make(seeded.privateKey.slice()), seeded.version))

/** Every stored key, read through the store's export. */
export const storedKeys = Effect.flatMap(BackupStore.BackupStore, (store) =>
  Effect.map(Stream.runCollect(store.exportRoomKeys()), (chunk) => [...chunk]),
)

/** Compares a stored key with the plaintext it was made from. */
export const sameKey = (stored: RoomKey.RoomKey, original: ExportedRoomKey): boolean =>
  stored.roomId === original.room_id &&
  stored.sessionId === original.session_id &&
  stored.sessionKey === original.session_key &&
  stored.senderKey === original.sender_key &&
  stored.senderClaimedKeys["ed25519"] === original.sender_claimed_keys.ed25519
