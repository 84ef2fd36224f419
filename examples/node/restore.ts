// Restore on a new device (Node): open Secret Storage with the recovery key, load the backup key from it, and
// restore every key with progress; keys that cannot be restored are reported one by one and counted by reason.
import { createKeyBackupClient, decodeRecoveryKey, KeyBackupClientError } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { sqliteStore } from "@matrix-backup/store-sqlite"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`Set ${name}`)
  return value
}

try {
  // A mistyped recovery key fails here, before any request: RecoveryKeyError, code Parity, Base58, Length or Prefix.
  const recoveryKey = decodeRecoveryKey(env("MATRIX_RECOVERY_KEY"))
  const client = await createKeyBackupClient({
    homeserver: fetchHomeserver({
      baseUrl: env("MATRIX_HOMESERVER"),
      accessToken: env("MATRIX_ACCESS_TOKEN"),
      userId: env("MATRIX_USER_ID"),
      deviceId: env("MATRIX_DEVICE_ID"),
    }),
    store: sqliteStore({ filename: "new-device.sqlite" }),
    // No deviceSigningKey: this device trusts the backup through the key it loads from Secret Storage.
    cryptoCallbacks: {
      // Asked when Secret Storage must be opened: answer with the key's ID and its 32 bytes.
      getSecretStorageKey: async ({ keys }) => {
        const keyId = Object.keys(keys)[0]
        return keyId === undefined ? null : [keyId, recoveryKey]
      },
    },
  })
  try {
    await client.loadSessionBackupPrivateKeyFromSecretStorage()
    const result = await client.restoreKeyBackup({
      progressCallback: (progress) => {
        if (progress.stage === "load_keys") console.log(`Restored ${progress.successes} / ${progress.total} keys (${progress.failures} failures)`)
        else console.log("Fetching keys from the server...")
      },
      onFailure: (failure) => console.warn(`Skipped a key of ${failure.roomId}: ${failure.reason}`),
    })
    console.log(`Restore complete: ${result.imported} / ${result.total} keys imported`)
    if (result.skipped > 0) console.log(`Skipped by reason: ${JSON.stringify(result.failures)}`)
  } finally {
    await client.stop()
  }
} catch (error) {
  // Every failure is a KeyBackupClientError: `name` and `code` say what went wrong (`errcode` what the server said).
  if (!(error instanceof KeyBackupClientError)) throw error
  console.error(`Restore failed: ${error.name} (${error.code}): ${error.message}`)
  process.exitCode = 1
}
