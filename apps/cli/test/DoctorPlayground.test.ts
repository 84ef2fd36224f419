// `matrix-backup doctor` and the playground say the same about the same account. The account is set up as Element
// sets it up (a matrix-js-sdk 43 device: cross-signing, Secret Storage, a backup); one device runs the command, the
// other the playground's diagnosis function (apps/playground/src/Health.ts, which needs no DOM) in Node; both load
// the backup key from 4S, then js-sdk writes a stale key into 4S. The two diagnoses, the command's JSON and the
// page's lines, must agree line for line.
import { BackupEvents, BackupStore, CryptoBackend, DeviceKeys, Entropy, Ids, KeyBackupEngine, KeyBackupRestore, KeyStorage, Recovery, SecretStorage, SecretStorageCallbacks } from "@matrix-backup/core"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { diagnose, diagnosisLines, repair } from "@matrix-backup/playground/Health"
import { loginNewDevice, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { bootstrapJsSdkBackup, stopAllJsSdkClients } from "@matrix-backup/testkit/JsSdk"
import { Layer, ManagedRuntime, Redacted } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cli, stateDir } from "./support.js"

let server: RunningFakeHomeserver
beforeEach(async () => {
  server = await startFakeHomeserver()
})
afterEach(async () => {
  stopAllJsSdkClients()
  await server.stop()
})

type Device = { readonly userId: string; readonly deviceId: string; readonly accessToken: string }

/** The playground's device, as the page composes it, with an in-memory store in place of IndexedDB. */
const playgroundDevice = (device: Device) => {
  const ports = Layer.mergeAll(
    FetchHomeserverApi.layerFetch({ baseUrl: server.url, accessToken: Redacted.make(device.accessToken), userId: Ids.UserId.make(device.userId) }),
    BackupStore.layerMemory,
    BackupEvents.layer,
    CryptoBackend.layer.pipe(Layer.provideMerge(Entropy.layer)),
    DeviceKeys.layerFromSeeds({ userId: device.userId, deviceId: device.deviceId, deviceSeed: Redacted.make(globalThis.crypto.getRandomValues(new Uint8Array(32))) }),
    SecretStorageCallbacks.layerNone,
  )
  return ManagedRuntime.make(
    KeyStorage.layer.pipe(
      Layer.provideMerge(Layer.merge(Recovery.layer, KeyBackupRestore.layer)),
      Layer.provideMerge(KeyBackupEngine.layer({ maxStartJitter: 0 })),
      Layer.provideMerge(SecretStorage.layer),
      Layer.provideMerge(ports),
    ),
  )
}

const connection = (device: Device, state: string) => ["--homeserver", server.url, "--access-token", device.accessToken, "--state", state]

describe("doctor and the playground", () => {
  it("show the same diagnosis of the same account", { timeout: 120_000 }, async () => {
    const user = await registerUser(server.url)
    const element = await bootstrapJsSdkBackup(server.url, user)
    const recoveryKey = element.recoveryKey.encodedPrivateKey ?? ""

    const command = await loginNewDevice(server.url, user)
    const state = stateDir()
    const cached = await cli(["doctor", "--fix", ...connection(command, state), "--recovery-key", recoveryKey, "--json"])
    expect(cached.json).toMatchObject({ diagnosis: { healthy: true }, repair: { steps: expect.arrayContaining([{ action: "CacheKeyFromSecretStorage", outcome: "Done", detail: expect.any(String) }]) } })

    const page = playgroundDevice(await loginNewDevice(server.url, user))
    try {
      expect((await page.runPromise(repair(recoveryKey))).after.healthy).toBe(true)

      // A js-sdk client overwrites the backup key in 4S with a key of no backup.
      await element.client.secretStorage.store("m.megolm_backup.v1", Buffer.from(new Uint8Array(32).fill(9)).toString("base64").replace(/=+$/, ""))

      const doctor = await cli(["doctor", ...connection(command, state), "--recovery-key", recoveryKey, "--json"])
      expect(doctor.code).toBe(0)
      const diagnosis = await page.runPromise(diagnose)
      const pageLines = diagnosisLines(diagnosis)
      expect(diagnosis.drifts.map((d) => d.kind)).toEqual(["BackupKeyMismatch"])
      // Line for line, the command's `lines` are the page's.
      expect(doctor.json?.["diagnosis"]).toMatchObject({ lines: pageLines.map((line) => ({ topic: line.kind, text: line.text, ...(line.action === "None" ? {} : { action: line.action }) })) })
      // And every fact but the per-signer trust reasons (which name each device's own key) is the same.
      const { trustReasons: _own, ...server1 } = Object(Object(doctor.json?.["diagnosis"])["server"])
      const pageJson = KeyStorage.diagnosisJson(diagnosis)
      const { trustReasons: _theirs, ...server2 } = Object(pageJson.server)
      expect(server1).toEqual(server2)
      expect(doctor.json?.["diagnosis"]).toMatchObject({ ...pageJson, server: expect.anything() })
      // The words a person reads in the terminal are the page's, plus the flags that act on each drift.
      const words = await cli(["doctor", ...connection(command, state), "--recovery-key", recoveryKey])
      for (const line of pageLines) expect(words.stdout).toContain(line.text)
    } finally {
      await page.dispose()
    }
  })
})
