// Test helpers: the fake homeserver, seeded backups, js-sdk devices holding the backup key, and a look inside a
// device's OlmMachine (its room-key counts and pending backup request), which js-sdk does not expose publicly.
import { randomBytes } from "node:crypto"
import type { ExportedRoomKey, RunningFakeHomeserver, StoredRoomKey, TestUser } from "@matrix-backup/testkit"
import { generateRoomKeys, loginNewDevice, registerUser, seedBackup, startFakeHomeserver } from "@matrix-backup/testkit"
import type { JsSdkClient } from "@matrix-backup/testkit/JsSdk"
import { startJsSdkClient } from "@matrix-backup/testkit/JsSdk"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"

/** The decryption worker as crypto-node's build ships it (the test task runs after the dependencies' builds). */
export const WORKER_ENTRY = new URL("../node_modules/@matrix-backup/crypto-node/dist/DecryptWorkerMain.js", import.meta.url)

/** This package's restore worker as its build ships it (the test task runs after this package's build). */
export const RESTORE_WORKER_ENTRY = new URL("../dist/RestoreWorkerMain.js", import.meta.url)

/** Options that run the restore on its worker thread from the build, decrypting on `threads` more. */
export const offThread = (threads: number) => ({ restoreWorkerEntry: RESTORE_WORKER_ENTRY, decryptionThreads: threads })

/** A fresh fake homeserver and a registered user. */
export const serverWithUser = async (): Promise<{ readonly server: RunningFakeHomeserver; readonly user: TestUser }> => {
  const server = await startFakeHomeserver()
  return { server, user: await registerUser(server.url) }
}

/** Seeds `count` keys (plus `extra` raw entries) into a new backup made for a fresh private key. */
export const seeded = async (server: RunningFakeHomeserver, user: TestUser, count: number, extra: ReadonlyArray<StoredRoomKey> = []) => {
  const privateKey = new Uint8Array(randomBytes(32))
  const keys = generateRoomKeys(count, { rooms: Math.max(1, Math.ceil(count / 60)) })
  const { version } = await seedBackup(server, user.userId, { backupPrivateKey: privateKey, keys, extraEntries: extra })
  return { privateKey, keys, version }
}

/** A new js-sdk device of `user` (not syncing) that holds `privateKey` for `version`. */
export const deviceWithKey = async (server: RunningFakeHomeserver, user: TestUser, privateKey: Uint8Array, version: string): Promise<JsSdkClient> => {
  const device = await loginNewDevice(server.url, user)
  const started = await startJsSdkClient(server.url, device, { sync: false })
  await started.crypto.storeSessionBackupPrivateKey(Uint8Array.from(privateKey), version)
  return started
}

/** A new js-sdk device of `user` (not syncing) with crypto but no backup key. */
export const deviceWithoutKey = async (server: RunningFakeHomeserver, user: TestUser): Promise<JsSdkClient> =>
  startJsSdkClient(server.url, await loginNewDevice(server.url, user), { sync: false })

/** The parts of matrix-sdk-crypto-wasm's OlmMachine the tests read. */
export interface OlmMachineView {
  readonly roomKeyCounts: () => Promise<{ readonly total: number; readonly backedUp: number }>
  readonly backupRoomKeys: () => Promise<unknown>
}

/** The device's OlmMachine (a private field of js-sdk's RustCrypto). */
export const olmMachine = (client: JsSdkClient): OlmMachineView => Reflect.get(client.crypto, "olmMachine") as OlmMachineView

/** The machine's room-key counts as a plain object (the wasm object only has getters). */
export const roomKeyCounts = async (client: JsSdkClient) => {
  const counts = await olmMachine(client).roomKeyCounts()
  return { total: counts.total, backedUp: counts.backedUp }
}

/** The fields that make a session export; sorted by session id. */
export const comparable = (keys: ReadonlyArray<IMegolmSessionData | ExportedRoomKey>) =>
  keys
    .map((k) => ({
      room_id: k.room_id,
      session_id: k.session_id,
      session_key: k.session_key,
      sender_key: k.sender_key,
      sender_claimed_keys: k.sender_claimed_keys,
    }))
    .sort((a, b) => a.session_id.localeCompare(b.session_id))

/** `PUT /room_keys/keys...` requests in the server's log from index `from` on. */
export const uploadsSince = async (server: RunningFakeHomeserver, from: number) =>
  (await server.admin.requestLog()).slice(from).filter((e) => e.method === "PUT" && e.path.includes("/room_keys/keys"))
