// FakeHomeserverAdmin over HTTP (`/_testkit/...`), for a fake running in another process
// (`pnpm fake-homeserver`). Seeding is sent in batches to stay under the body limit.
import type { BackupVersionRow, FakeHomeserverAdmin, StoredRoomKey } from "./Admin.js"
import type { RequestLogEntry } from "./server/Homeserver.js"
import { faultToJson } from "./server/routes/Admin.js"

const BATCH = 5000

/** The admin API of the fake at `baseUrl`. */
export const connectAdmin = (baseUrl: string, fetcher: typeof globalThis.fetch = globalThis.fetch): FakeHomeserverAdmin => {
  const call = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
    const response = await fetcher(`${baseUrl}/_testkit${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    })
    const json: A = await response.json()
    if (!response.ok) throw new Error(`fake homeserver admin: ${method} ${path} failed with ${response.status}`)
    return json
  }
  const enc = encodeURIComponent
  return {
    injectFault: async (fault) => (await call<{ id: string }>("POST", "/faults", faultToJson(fault))).id,
    removeFault: async (id) => void (await call("DELETE", `/faults/${enc(id)}`)),
    clearFaults: async () => void (await call("DELETE", "/faults")),
    awaitHeld: async (faultId, count = 1) => (await call<{ held: number }>("GET", `/faults/${enc(faultId)}/held?count=${count}`)).held,
    releaseHeld: async (faultId) => (await call<{ released: number }>("POST", `/faults/${enc(faultId)}/release`)).released,
    roomKeys: async (userId, version) => (await call<{ keys: Array<StoredRoomKey> }>("GET", `/room_keys/${enc(userId)}/${enc(version)}`)).keys,
    insertRoomKeys: async (userId, version, keys) => {
      for (let i = 0; i < keys.length; i += BATCH) {
        await call("POST", `/room_keys/${enc(userId)}/${enc(version)}`, { keys: keys.slice(i, i + BATCH) })
      }
    },
    backupVersions: async (userId) => (await call<{ versions: Array<BackupVersionRow> }>("GET", `/backup_versions/${enc(userId)}`)).versions,
    accountData: async (userId, type) => (await call<{ content: unknown }>("GET", `/account_data/${enc(userId)}/${enc(type)}`)).content ?? undefined,
    setAccountData: async (userId, type, content) => void (await call("PUT", `/account_data/${enc(userId)}/${enc(type)}`, content)),
    resetBackupAsOtherDevice: async (userId, algorithm, authData) =>
      (await call<{ version: string }>("POST", `/reset_backup/${enc(userId)}`, { algorithm, auth_data: authData })).version,
    requestLog: async () => (await call<{ entries: Array<RequestLogEntry> }>("GET", "/request_log")).entries,
    clearRequestLog: async () => void (await call("DELETE", "/request_log")),
  }
}
