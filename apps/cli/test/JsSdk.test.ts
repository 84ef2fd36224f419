// Interop with matrix-js-sdk 43 (rust crypto) over loopback HTTP: js-sdk sets up 4S and a backup and uploads keys
// itself; `matrix-backup export` with js-sdk's recovery key gives back exactly those keys, and keys js-sdk exports
// as JSON import and upload through `matrix-backup import`.
import "./nodePolyfills.js"
import { generateRoomKeys, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import * as sdk from "matrix-js-sdk"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cli, expectNoSecrets, stateDir } from "./support.js"

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild() { return silent } }

const waitFor = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 200))
  }
}

const prepared = (client: sdk.MatrixClient): Promise<void> =>
  new Promise((resolve, reject) => {
    const onSync = (state: string): void => {
      if (state === "PREPARED" || state === "SYNCING") resolve()
      else if (state === "ERROR") reject(new Error("sync failed"))
    }
    client.on(sdk.ClientEvent.Sync, onSync)
  })

describe("matrix-js-sdk 43 interop", () => {
  let server: RunningFakeHomeserver | undefined
  let client: sdk.MatrixClient | undefined
  afterEach(async () => {
    client?.stopClient()
    await server?.stop()
  })

  it("exports the keys js-sdk backed up, and backs up keys js-sdk exported", { timeout: 120_000 }, async () => {
    server = await startFakeHomeserver()
    const user = await registerUser(server.url)
    let secretKey: Uint8Array<ArrayBuffer> | null = null
    client = sdk.createClient({
      baseUrl: server.url,
      accessToken: user.accessToken,
      userId: user.userId,
      deviceId: user.deviceId,
      logger: silent,
      cryptoCallbacks: {
        getSecretStorageKey: async ({ keys }) => {
          const keyId = Object.keys(keys)[0]
          return secretKey === null || keyId === undefined ? null : [keyId, secretKey]
        },
      },
    })
    await client.initRustCrypto({ useIndexedDB: false })
    const ready = prepared(client)
    await client.startClient({ initialSyncLimit: 1 })
    await ready
    const crypto = client.getCrypto()
    if (crypto === undefined) throw new Error("no crypto")
    await crypto.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password: user.password })
      },
    })
    const created = await crypto.createRecoveryKeyFromPassphrase()
    secretKey = created.privateKey
    await crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => created, setupNewKeyBackup: true })
    const check = await crypto.checkKeyBackupAndEnable()
    const version = check?.backupInfo.version ?? ""
    expect(check?.trustInfo.trusted).toBe(true)

    // js-sdk encrypts and uploads these itself (imported keys are backed up by its upload loop).
    const keys = generateRoomKeys(40, { rooms: 3, seed: "js-sdk-interop" })
    await crypto.importRoomKeys(keys.map((k) => ({ ...k, forwarding_curve25519_key_chain: [...k.forwarding_curve25519_key_chain] })))
    await waitFor(async () => (await server?.admin.roomKeys(user.userId, version))?.length === keys.length, 60_000)

    const recoveryKey = created.encodedPrivateKey ?? ""
    const connection = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", stateDir()]
    const out = join(stateDir(), "from-js-sdk.json")
    const exported = await cli(["export", ...connection, "--recovery-key", recoveryKey, "--format", "json", "--out", out, "--json"])
    expect(exported.json).toEqual({ file: out, exported: 40, failures: {} })
    expectNoSecrets(exported, [recoveryKey, user.accessToken])
    const ours: Array<Record<string, unknown>> = JSON.parse(readFileSync(out, "utf8"))
    const fields = (k: Record<string, unknown>) =>
      JSON.stringify([k["room_id"], k["session_id"], k["session_key"], k["sender_key"], k["sender_claimed_keys"], k["algorithm"]])
    expect(ours.map(fields).sort()).toEqual(keys.map((k) => fields({ ...k })).sort())

    // The other direction: js-sdk's own JSON export goes through our import into the same backup.
    const more = generateRoomKeys(15, { rooms: 2, seed: "js-sdk-export" })
    const secondState = stateDir()
    const second = ["--homeserver", server.url, "--access-token", user.accessToken, "--state", secondState]
    const restored = await cli(["restore", ...second, "--recovery-key", recoveryKey, "--json"])
    expect(restored.json).toMatchObject({ total: 40, imported: 40 })
    const file = join(stateDir(), "js-sdk-export.json")
    writeFileSync(file, JSON.stringify(more))
    const imported = await cli(["import", ...second, "--in", file, "--format", "json", "--json"])
    expect(imported.json).toMatchObject({ imported: 15, uploaded: 15, pending: 0 })
    expect(await server.admin.roomKeys(user.userId, version)).toHaveLength(55)
    // js-sdk can decrypt what we uploaded: a restore on its side sees all 55.
    const result = await crypto.restoreKeyBackup()
    expect(result).toMatchObject({ total: 55, imported: 55 })
  })
})
