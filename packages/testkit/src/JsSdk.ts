// Drives matrix-js-sdk 43 (Rust crypto) against the fake homeserver for interop tests: clients, a cross-signed
// first device with 4S and a trusted backup, second devices loading the backup key from 4S, and cleanup.
// Import as "@matrix-backup/testkit/JsSdk" (matrix-js-sdk is an optional peer); importing it polyfills Node 20.
import "./PromiseWithResolvers.js"
import * as sdk from "matrix-js-sdk"
import type { CryptoApi, GeneratedSecretStorageKey } from "matrix-js-sdk/lib/crypto-api/index.js"
import type { Logger } from "matrix-js-sdk/lib/logger.js"
import type { TestUser } from "./fixtures/Users.js"
import { loginNewDevice } from "./fixtures/Users.js"

/** A logger that drops everything js-sdk says. */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild: () => silentLogger,
}

/** The device a client runs as. */
export interface JsSdkDevice {
  readonly userId: string
  readonly accessToken: string
  readonly deviceId: string
}

/** Answers js-sdk's 4S key prompt for the offered keys: the key's bytes, or null to decline. */
export type SecretStorageKeyAnswer = (
  keys: Record<string, sdk.SecretStorage.SecretStorageKeyDescription>,
) => Uint8Array | null | Promise<Uint8Array | null>

/** How `startJsSdkClient` starts a client. */
export interface JsSdkClientOptions {
  /** Like an app prompting for the recovery key; the answer is given for the first key js-sdk asks about. */
  readonly getSecretStorageKey?: SecretStorageKeyAnswer
  /** Start syncing and wait for the first sync (default true); false only initialises crypto. */
  readonly sync?: boolean
}

/** A running js-sdk client and its crypto API. */
export interface JsSdkClient {
  readonly client: sdk.MatrixClient
  readonly crypto: CryptoApi
}

const running: Array<sdk.MatrixClient> = []

/** Stops every client started here (call from afterEach). */
export const stopAllJsSdkClients = (): void => {
  for (const client of running.splice(0)) client.stopClient()
}

const firstSync = (client: sdk.MatrixClient): Promise<void> =>
  new Promise((resolve, reject) => {
    const onSync = (state: string): void => {
      if (state !== "PREPARED" && state !== "SYNCING" && state !== "ERROR") return
      client.off(sdk.ClientEvent.Sync, onSync)
      if (state === "ERROR") reject(new Error("sync failed"))
      else resolve()
    }
    client.on(sdk.ClientEvent.Sync, onSync)
  })

/** A js-sdk client with in-memory Rust crypto for `device` on `baseUrl`, tracked for stopAllJsSdkClients. */
export const startJsSdkClient = async (baseUrl: string, device: JsSdkDevice, options: JsSdkClientOptions = {}): Promise<JsSdkClient> => {
  const answer = options.getSecretStorageKey ?? (() => null)
  const client = sdk.createClient({
    baseUrl,
    accessToken: device.accessToken,
    userId: device.userId,
    deviceId: device.deviceId,
    logger: silentLogger,
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        const keyId = Object.keys(keys)[0]
        const key = await answer(keys)
        return key === null || keyId === undefined ? null : [keyId, Uint8Array.from(key)]
      },
    },
  })
  running.push(client)
  await client.initRustCrypto({ useIndexedDB: false })
  const crypto = client.getCrypto()
  if (crypto === undefined) throw new Error("js-sdk has no crypto")
  if (options.sync ?? true) {
    const synced = firstSync(client)
    await client.startClient({ initialSyncLimit: 1 })
    await synced
  }
  return { client, crypto }
}

/** Holds the recovery key a test's js-sdk clients answer 4S prompts with; empty until set. */
export interface RecoveryKeyCell {
  /** The key (null: not set yet). */
  readonly get: () => Uint8Array<ArrayBuffer> | null
  /** Sets the key. */
  readonly set: (key: Uint8Array<ArrayBuffer>) => void
}

/** A new, empty `RecoveryKeyCell`. */
export const recoveryKeyCell = (): RecoveryKeyCell => {
  let key: Uint8Array<ArrayBuffer> | null = null
  return {
    get: () => key,
    set: (next) => {
      key = next
    },
  }
}

/** js-sdk sets up 4S with a new recovery key (from `passphrase` if given) and a new key backup. */
export const bootstrapJsSdkSecretStorage = async (crypto: CryptoApi, cell: RecoveryKeyCell, passphrase?: string): Promise<GeneratedSecretStorageKey> => {
  const created = await crypto.createRecoveryKeyFromPassphrase(passphrase)
  cell.set(created.privateKey)
  await crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => created, setupNewKeyBackup: true })
  return created
}

/** Cross-signing for `user`'s device, approving the upload with the account password (UIA). */
export const bootstrapJsSdkCrossSigning = (crypto: CryptoApi, user: TestUser): Promise<void> =>
  crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password: user.password })
    },
  })

/** A first device after bootstrapJsSdkBackup, with the recovery key (bytes and encoded) and a prompt answer. */
export interface JsSdkBackup extends JsSdkClient {
  readonly recoveryKey: GeneratedSecretStorageKey
  /** The Secret Storage key the client answers prompts with. */
  readonly secretKey: RecoveryKeyCell["get"]
}

/** `user`'s device in js-sdk, synced: cross-signing, 4S with a recovery key, and a fresh trusted backup. */
export const bootstrapJsSdkBackup = async (baseUrl: string, user: TestUser): Promise<JsSdkBackup> => {
  const cell = recoveryKeyCell()
  const started = await startJsSdkClient(baseUrl, user, { getSecretStorageKey: cell.get })
  await bootstrapJsSdkCrossSigning(started.crypto, user)
  const recoveryKey = await bootstrapJsSdkSecretStorage(started.crypto, cell)
  await started.crypto.resetKeyBackup()
  return { ...started, recoveryKey, secretKey: cell.get }
}

/** A new device of `user` logged in and started in js-sdk, which loads the backup key from 4S. */
export const jsSdkSecondDevice = async (
  baseUrl: string,
  user: { readonly userId: string; readonly password: string },
  options: JsSdkClientOptions = {},
): Promise<JsSdkClient & { readonly device: TestUser }> => {
  const device = await loginNewDevice(baseUrl, user)
  const started = await startJsSdkClient(baseUrl, device, options)
  await started.crypto.loadSessionBackupPrivateKeyFromSecretStorage()
  return { ...started, device }
}

/** What a js-sdk device that trusts the user's identity sees of the current backup. */
export interface TrustingDeviceCheck {
  readonly identityVerified: boolean
  readonly version: string | undefined
  readonly trustInfo: { readonly trusted: boolean; readonly matchesDecryptionKey: boolean } | undefined
  readonly js: JsSdkClient & { readonly device: TestUser }
}

/**
 * A new js-sdk device that loads the backup key from 4S, fetches the public cross-signing keys and imports the private
 * ones from 4S (so it trusts the user's identity and cross-signs itself), then checks the backup as js-sdk does.
 */
export const checkBackupFromTrustingDevice = async (
  baseUrl: string,
  user: { readonly userId: string; readonly password: string },
  getSecretStorageKey: SecretStorageKeyAnswer,
): Promise<TrustingDeviceCheck> => {
  const js = await jsSdkSecondDevice(baseUrl, user, { getSecretStorageKey, sync: false })
  // The public cross-signing keys first (a keys query), so the private ones from 4S can be checked against them.
  if (!(await js.crypto.userHasCrossSigningKeys(user.userId, true))) throw new Error("js-sdk found no cross-signing keys for the user")
  await js.crypto.bootstrapCrossSigning({})
  const identityVerified = (await js.crypto.getUserVerificationStatus(user.userId)).isCrossSigningVerified()
  const check = await js.crypto.checkKeyBackupAndEnable()
  return { identityVerified, version: check?.backupInfo.version, trustInfo: check?.trustInfo, js }
}
