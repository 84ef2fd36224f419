// The complete setup flow (Node): Secret Storage with a new recovery key, a key backup, the backup events, and the
// room keys the app exported (a JSON array, e.g. matrix-js-sdk's `exportRoomKeysAsJson()`) uploaded to it.
import { readFile } from "node:fs/promises"
import { createKeyBackupClient, CryptoEvent } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { sqliteStore } from "@matrix-backup/store-sqlite"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`Set ${name}`)
  return value
}

// 1. Create the client with cryptoCallbacks. This device creates Secret Storage, so it is never asked for the key
//    here (the new key is cached); on another device getSecretStorageKey answers with the recovery key.
const client = await createKeyBackupClient({
  homeserver: fetchHomeserver({
    baseUrl: env("MATRIX_HOMESERVER"),
    accessToken: env("MATRIX_ACCESS_TOKEN"),
    userId: env("MATRIX_USER_ID"),
    deviceId: env("MATRIX_DEVICE_ID"),
  }),
  store: sqliteStore({ filename: "keys.sqlite" }),
  deviceSigningKey: Buffer.from(env("MATRIX_DEVICE_SIGNING_KEY"), "base64"),
  cryptoCallbacks: {
    getSecretStorageKey: async () => null,
  },
  // A script uploads at once; an app keeps the default random start delay (up to 10 s) so devices spread out.
  uploadOptions: { maxStartJitter: 0 },
})

try {
  // 2. Secret Storage: a new key, shown to the user once.
  await client.bootstrapSecretStorage({
    createSecretStorageKey: async () => {
      const key = await client.createRecoveryKeyFromPassphrase()
      console.log(`Recovery key (write it down): ${key.encodedPrivateKey}`)
      return key
    },
  })

  // 3. Check for an existing backup and create one if needed (its key is stored in Secret Storage).
  const check = await client.checkKeyBackupAndEnable()
  if (check === null) {
    await client.resetKeyBackup()
    console.log("New key backup created")
  } else {
    console.log(`Using existing backup version ${check.backupInfo.version}, trusted: ${check.trustInfo.trusted}`)
  }

  // 4. Listen for backup events.
  client.on(CryptoEvent.KeyBackupStatus, (enabled) => console.log(`Key backup enabled: ${enabled}`))
  client.on(CryptoEvent.KeyBackupFailed, (errorCode) => console.error(`Key backup failed: ${errorCode}`))
  client.on(CryptoEvent.KeyBackupSessionsRemaining, (remaining) => console.log(`${remaining} keys left to back up`))

  // The app hands over its room keys; they are uploaded in batches in the background.
  const keysFile = process.env["MATRIX_ROOM_KEYS_FILE"]
  if (keysFile !== undefined) {
    await client.addRoomKeys(JSON.parse(await readFile(keysFile, "utf8")))
    await client.waitForBackupSteadyState()
    console.log(`All keys backed up to version ${await client.getActiveSessionBackupVersion()}`)
  }
} finally {
  await client.stop()
}
