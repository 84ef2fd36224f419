// The guide's Node examples, run as written against the fake homeserver over loopback HTTP; each test checks what
// the example did on the server and in its store, not only what it printed.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { RunningFakeHomeserver, TestIdentity, TestUser } from "@matrix-backup/testkit"
import { brokenEntry, createUserWithCrossSigning, generateRoomKeys, loginNewDevice, mistypedRecoveryKey, startFakeHomeserver } from "@matrix-backup/testkit"
import { freshDirectory, runExample } from "./RunExample.js"

let server: RunningFakeHomeserver | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

const loginEnv = (url: string, device: TestUser, signingSeed?: Uint8Array): Record<string, string> => ({
  MATRIX_HOMESERVER: url,
  MATRIX_ACCESS_TOKEN: device.accessToken,
  MATRIX_USER_ID: device.userId,
  MATRIX_DEVICE_ID: device.deviceId,
  ...(signingSeed === undefined ? {} : { MATRIX_DEVICE_SIGNING_KEY: Buffer.from(signingSeed).toString("base64") }),
})

const RECOVERY_KEY = /Recovery key \(write it down\): (E[sSt][A-Za-z0-9]{2}(?: [A-Za-z0-9]{4}){11})$/

describe("the guide's Node examples", () => {
  it("quick-start.ts creates a backup on the first run and finds it, trusted, on the next", async () => {
    server = await startFakeHomeserver()
    const identity: TestIdentity = await createUserWithCrossSigning(server.url)
    const dir = freshDirectory()
    const env = loginEnv(server.url, identity, identity.deviceSigningSeed)

    const first = await runExample("node/quick-start.ts", env, dir)
    expect(first.output).toEqual(["Created key backup version 1"])
    expect((await server.admin.backupVersions(identity.userId)).map((v) => v.version)).toEqual(["1"])

    const second = await runExample("node/quick-start.ts", env, dir)
    expect(second.output).toEqual(["Key backup version 1, trusted: true"])
  })

  it("setup-flow.ts, then restore.ts on a new device with the printed recovery key; a wrong key fails clearly", async () => {
    server = await startFakeHomeserver()
    const identity = await createUserWithCrossSigning(server.url)
    const dir = freshDirectory()
    const keysFile = join(dir, "room-keys.json")
    const keys = generateRoomKeys(120, { rooms: 3 })
    writeFileSync(keysFile, JSON.stringify(keys))

    const setup = await runExample("node/setup-flow.ts", { ...loginEnv(server.url, identity, identity.deviceSigningSeed), MATRIX_ROOM_KEYS_FILE: keysFile }, dir)
    expect(setup.exitCode).toBe(0)
    const recoveryKey = setup.output.map((line) => RECOVERY_KEY.exec(line)?.[1]).find((key) => key !== undefined) ?? ""
    expect(recoveryKey).not.toBe("")
    expect(setup.output).toContain("New key backup created")
    expect(setup.output.at(-1)).toBe("All keys backed up to version 1")
    expect(await server.admin.roomKeys(identity.userId, "1")).toHaveLength(120)
    expect(await server.admin.accountData(identity.userId, "m.megolm_backup.v1")).toMatchObject({ encrypted: expect.any(Object) })

    // One more entry that no key can decrypt: the restore reports it and goes on.
    const authData: unknown = (await server.admin.backupVersions(identity.userId))[0]?.auth_data
    const publicKey = typeof authData === "object" && authData !== null ? String(Reflect.get(authData, "public_key")) : ""
    const broken = brokenEntry("badMac", publicKey)
    await server.admin.insertRoomKeys(identity.userId, "1", [broken])

    const newDevice = await loginNewDevice(server.url, identity)
    const restoreDir = freshDirectory()
    const restored = await runExample("node/restore.ts", { ...loginEnv(server.url, newDevice), MATRIX_RECOVERY_KEY: recoveryKey }, restoreDir)
    expect(restored.exitCode).toBe(0)
    expect(restored.output[0]).toBe("Fetching keys from the server...")
    expect(restored.output).toContain(`Skipped a key of ${broken.roomId}: BadMac`)
    expect(restored.output).toContain("Restore complete: 120 / 121 keys imported")

    // keys-in-and-out.ts on the first device: 30 more keys imported and backed up, then all 150 exported.
    const more = generateRoomKeys(30, { rooms: 2 })
    const importFile = join(dir, "more-keys.json")
    writeFileSync(importFile, JSON.stringify(more))
    const moved = await runExample("node/keys-in-and-out.ts", { ...loginEnv(server.url, identity), MATRIX_IMPORT_FILE: importFile }, dir)
    expect(moved.exitCode).toBe(0)
    expect(moved.output).toEqual(["Imported 30 / 30 keys", "Exported 150 room keys to room-keys.json", "Recovery: Ready"])
    const exported: Array<{ session_id: string }> = JSON.parse(readFileSync(join(dir, "room-keys.json"), "utf8"))
    expect(new Set(exported.map((k) => k.session_id))).toEqual(new Set([...keys, ...more].map((k) => k.session_id)))
    expect(await server.admin.roomKeys(identity.userId, "1")).toHaveLength(151)

    const wrong = await runExample("node/restore.ts", { ...loginEnv(server.url, newDevice), MATRIX_RECOVERY_KEY: mistypedRecoveryKey(recoveryKey) }, freshDirectory())
    expect(wrong.exitCode).toBe(1)
    expect(wrong.output).toEqual([expect.stringMatching(/^Restore failed: RecoveryKeyError \((Parity|Base58)\): /)])
    expect(wrong.output.join("\n")).not.toContain(recoveryKey.slice(0, 9))
  })
})

describe("the guide's Effect example", () => {
  it("effect/main.ts creates the backup through the custom stack and reports the engine enabled", async () => {
    server = await startFakeHomeserver()
    const identity = await createUserWithCrossSigning(server.url)
    const run = await runExample("effect/main.ts", loginEnv(server.url, identity, identity.deviceSigningSeed), freshDirectory())
    expect(run.output).toEqual(["Backup engine: Enabled, version 1"])
    expect((await server.admin.backupVersions(identity.userId)).map((v) => v.version)).toEqual(["1"])
  })
})
