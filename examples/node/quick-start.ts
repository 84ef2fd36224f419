// Quick start (Node): open the device's key store, find the account's key backup, and create one when there is none.
// The login comes from the environment; MATRIX_DEVICE_SIGNING_KEY is the device's Ed25519 seed (base64).
import { createKeyBackupClient } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { sqliteStore } from "@matrix-backup/store-sqlite"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`Set ${name}`)
  return value
}

const client = await createKeyBackupClient({
  homeserver: fetchHomeserver({
    baseUrl: env("MATRIX_HOMESERVER"),
    accessToken: env("MATRIX_ACCESS_TOKEN"),
    userId: env("MATRIX_USER_ID"),
    deviceId: env("MATRIX_DEVICE_ID"),
  }),
  store: sqliteStore({ filename: "keys.sqlite" }),
  deviceSigningKey: Buffer.from(env("MATRIX_DEVICE_SIGNING_KEY"), "base64"),
})

try {
  const check = await client.checkKeyBackupAndEnable()
  if (check === null) {
    await client.resetKeyBackup()
    console.log(`Created key backup version ${await client.getActiveSessionBackupVersion()}`)
  } else {
    console.log(`Key backup version ${check.backupInfo.version}, trusted: ${check.trustInfo.trusted}`)
  }
} finally {
  await client.stop()
}
