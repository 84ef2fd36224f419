// Room keys in and out (Node): keys from a JSON file (matrix-js-sdk's `exportRoomKeysAsJson()` output, or a decrypted
// Element key file) imported and backed up, then every key this device holds exported to a JSON file that
// matrix-js-sdk's `importRoomKeysAsJson()` takes. Last, where recovery stands for this account.
import { readFile, writeFile } from "node:fs/promises"
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
  uploadOptions: { maxStartJitter: 0 },
})

try {
  await client.importRoomKeysAsJson(await readFile(env("MATRIX_IMPORT_FILE"), "utf8"), {
    progressCallback: (progress) => {
      if (progress.stage === "load_keys") console.log(`Imported ${progress.successes} / ${progress.total} keys`)
    },
  })
  // Imported keys are uploaded to the backup like any other; wait until they are.
  await client.waitForBackupSteadyState()

  // The export holds session keys in the clear: keep the file private, and delete it once it is imported.
  await writeFile("room-keys.json", await client.exportRoomKeysAsJson(), { mode: 0o600 })
  console.log(`Exported ${(await client.exportRoomKeys()).length} room keys to room-keys.json`)

  const recovery = await client.getRecoveryState()
  console.log(`Recovery: ${recovery.state}${recovery.state === "NotReady" ? ` (${recovery.reason})` : ""}`)
} finally {
  await client.stop()
}
