// Restores the key backup into a matrix-js-sdk client that opens Secret Storage with a recovery key: the backup
// streams in, is decrypted on worker threads and lands in the client's crypto as backed-up keys.
import { restoreKeyBackup, RestoreKeyBackupError } from "@matrix-backup/matrix-js-sdk"
import { createClient } from "matrix-js-sdk"
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/index.js"

const recoveryKey = decodeRecoveryKey(process.env["MATRIX_RECOVERY_KEY"] ?? "")
const client = createClient({
  baseUrl: process.env["MATRIX_HOMESERVER"] ?? "",
  accessToken: process.env["MATRIX_ACCESS_TOKEN"] ?? "",
  userId: process.env["MATRIX_USER_ID"] ?? "",
  deviceId: process.env["MATRIX_DEVICE_ID"] ?? "",
  cryptoCallbacks: {
    // Secret Storage asks for its key: answer with the recovery key's bytes.
    getSecretStorageKey: async ({ keys }) => [Object.keys(keys)[0] ?? "", recoveryKey],
  },
})
await client.initRustCrypto({ useIndexedDB: false }) // in a browser, keep the default (IndexedDB)
await client.getCrypto()?.loadSessionBackupPrivateKeyFromSecretStorage()

try {
  // Instead of `client.getCrypto().restoreKeyBackup()`: same options and result, a few times faster.
  const { total, imported, failures } = await restoreKeyBackup(client, {
    progressCallback: (p) => p.stage === "load_keys" && console.log(`${p.successes} / ${p.total} keys`),
  })
  console.log(`Restored ${imported} of ${total} keys`, failures)
} catch (error) {
  if (!(error instanceof RestoreKeyBackupError)) throw error
  console.error(`Restore failed (${error.reason}) with ${error.imported} keys imported`)
  process.exitCode = 1
} finally {
  client.stopClient()
}
