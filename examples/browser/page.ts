// The setup flow and a restore in a browser page: keys in IndexedDB, the homeserver over fetch, the recovery key
// shown once on the first device and typed back on a new one.
import { createKeyBackupClient, CryptoEvent, decodeRecoveryKey } from "@matrix-backup/core"
import { fetchHomeserver } from "@matrix-backup/http-fetch"
import { indexedDbStore } from "@matrix-backup/store-indexeddb"

// Your app has the login from its sign-in; this page reads it from the address (#baseUrl=…&accessToken=…&…).
// deviceSigningKey (the device's Ed25519 seed, base64) is there only when the app holds that key.
const login = new URLSearchParams(location.hash.slice(1))
const param = (name: string): string => login.get(name) ?? ""
const signingKey = login.get("deviceSigningKey")
const show = (id: string, text: string): void => {
  const element = document.getElementById(id)
  if (element !== null) element.textContent = text
}

const client = await createKeyBackupClient({
  homeserver: fetchHomeserver({ baseUrl: param("baseUrl"), accessToken: param("accessToken"), userId: param("userId"), deviceId: param("deviceId") }),
  store: indexedDbStore({ name: `key-backup/${param("userId")}/${param("deviceId")}` }),
  ...(signingKey === null ? {} : { deviceSigningKey: Uint8Array.from(atob(signingKey), (c) => c.charCodeAt(0)) }),
  cryptoCallbacks: {
    // Secret Storage asks for its key: answer with what the user typed (a typo throws RecoveryKeyError).
    getSecretStorageKey: async ({ keys }) => {
      const keyId = Object.keys(keys)[0]
      const typed = document.querySelector<HTMLInputElement>("#recovery-key")?.value ?? ""
      return keyId === undefined ? null : [keyId, decodeRecoveryKey(typed)]
    },
  },
})
client.on(CryptoEvent.KeyBackupStatus, (enabled) => show("status", `Key backup: ${enabled ? "on" : "off"}`))
const check = await client.checkKeyBackupAndEnable()
show("status", check === null ? "Key backup: none yet" : `Key backup: version ${check.backupInfo.version}, trusted: ${check.trustInfo.trusted}`)

/** The first device: Secret Storage with a new recovery key, shown once, and a key backup. */
const setUp = async (): Promise<void> => {
  await client.bootstrapSecretStorage({
    createSecretStorageKey: async () => {
      const key = await client.createRecoveryKeyFromPassphrase()
      show("new-recovery-key", key.encodedPrivateKey ?? "")
      return key
    },
  })
  if ((await client.checkKeyBackupAndEnable()) === null) await client.resetKeyBackup()
  show("setup", "(saved in Secret Storage)")
}

/** A new device: the typed recovery key opens Secret Storage, then every key is restored with progress. */
const restore = async (): Promise<void> => {
  await client.loadSessionBackupPrivateKeyFromSecretStorage()
  const result = await client.restoreKeyBackup({
    progressCallback: (progress) => show("progress", progress.stage === "load_keys" ? `${progress.successes} / ${progress.total}` : "Fetching keys…"),
  })
  show("result", `Restored ${result.imported} of ${result.total} keys`)
}

const run = (action: () => Promise<void>) => () =>
  void action().catch((error: unknown) => show("error", error instanceof Error ? `${error.name}: ${error.message}` : String(error)))
document.querySelector("#set-up")?.addEventListener("click", run(setUp))
document.querySelector("#restore")?.addEventListener("click", run(restore))
