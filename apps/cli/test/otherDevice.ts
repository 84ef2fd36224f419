// For the server-profile tests: an account whose backup the CLI created, what another device of that account does to
// the backup meanwhile, and what ends up where (the server's live versions, a device's store) once the CLI exited.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { BackupStore } from "@matrix-backup/core"
import { SqliteBackupStore } from "@matrix-backup/store-sqlite"
import { generateRoomKeys, registerUser, type RunningFakeHomeserver } from "@matrix-backup/testkit"
import { Effect, Stream } from "effect"
import { expect } from "vitest"
import { cli, stateDir } from "./support.js"

/** A user who created a backup with the CLI on `server`, and a key file of `count` keys in 5 rooms. */
export const setUp = async (server: RunningFakeHomeserver, count: number) => {
  const user = await registerUser(server.url)
  const state = stateDir()
  const connection = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", state]
  const created = await cli(["create", ...connection, "--json"])
  expect(created.code).toBe(0)
  const path = join(stateDir(), "keys.json")
  const keys = generateRoomKeys(count, { rooms: 5 })
  writeFileSync(path, JSON.stringify(keys))
  const ids = keys.map((k) => `${k.room_id}|${k.session_id}`).sort()
  return { server, user, state, connection, path, ids, version: String(created.json?.["backupVersion"]), recoveryKey: String(created.json?.["recoveryKey"]) }
}

/** One account of `setUp`. */
export type Account = Awaited<ReturnType<typeof setUp>>

const deleteVersion = async (account: Account, version: string) => {
  const url = `${account.server.url}/_matrix/client/v3/room_keys/version/${version}`
  const response = await fetch(url, { method: "DELETE", headers: { authorization: `Bearer ${account.user.accessToken}` } })
  expect(response.status).toBe(200)
}

/**
 * What another device does to the account's backup: makes a new version beside it (the old one stays readable, as
 * on Synapse), deletes it and makes a new one (Element's reset), or only deletes it.
 */
export const CHANGES = {
  replaced: (account: Account) => account.server.admin.resetBackupAsOtherDevice(account.user.userId),
  reset: async (account: Account) => {
    await deleteVersion(account, account.version)
    return account.server.admin.resetBackupAsOtherDevice(account.user.userId)
  },
  deleted: async (account: Account) => {
    await deleteVersion(account, account.version)
    return undefined
  },
} satisfies Record<string, (account: Account) => Promise<string | undefined>>

/** A kind of change of `CHANGES`. */
export type Change = keyof typeof CHANGES

/** The `room|session` of each key in a device's store (read after the CLI exited), pending ones counted for `version`. */
export const localKeys = (state: string, version: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      const keys = yield* Stream.runCollect(store.exportRoomKeys())
      return { ids: [...keys].map((k) => `${k.roomId}|${k.sessionId}`).sort(), pending: yield* store.countPending(version) }
    }).pipe(Effect.provide(SqliteBackupStore.layer({ filename: join(state, "store.sqlite") })), Effect.orDie),
  )

/** The `room|session` of each key in each version the server still shows (deleted ones left out). */
export const liveServerKeys = async (account: Account): Promise<Map<string, Array<string>>> => {
  const live = (await account.server.admin.backupVersions(account.user.userId)).filter((row) => !row.deleted)
  const out = new Map<string, Array<string>>()
  for (const row of live) out.set(row.version, (await account.server.admin.roomKeys(account.user.userId, row.version)).map((k) => `${k.roomId}|${k.sessionId}`).sort())
  return out
}

/**
 * Nothing lost, nothing duplicated: the device that imported holds every key of the file once; each live version on
 * the server holds some of them, once each; and this device marks as uploaded to its version exactly what the server
 * holds there, so every other key is still pending here.
 */
export const expectNothingLost = async (account: Account) => {
  const local = await localKeys(account.state, account.version)
  expect(local.ids).toEqual(account.ids)
  const server = await liveServerKeys(account)
  for (const ids of server.values()) {
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.filter((id) => !account.ids.includes(id))).toEqual([])
  }
  const kept = server.get(account.version)
  if (kept !== undefined) expect(local.pending).toBe(account.ids.length - kept.length)
  return { local, server }
}
