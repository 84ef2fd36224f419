/**
 * `create`: a new Secret Storage key (random, or from a passphrase), a new backup version signed by this
 * device, and the backup key stored in 4S as `m.megolm_backup.v1` (PROTOCOL.md §5.4, §6, §8.5).
 */
import {
  AesHmacSha2,
  Base64,
  BackupStore,
  CryptoBackend,
  Curve25519,
  Entropy,
  HomeserverApi,
  MegolmBackupV1,
  Passphrase,
  RecoveryKey,
  SecretStorage,
  SignedJson,
} from "@matrix-backup/core"
import { Effect, Option, Redacted } from "effect"
import type { DeviceState } from "../StateDir.js"

/** What `create` hands back: the recovery key (shown once) and the new version. */
export interface BootstrapResult {
  readonly recoveryKey: Redacted.Redacted<string>
  readonly backupVersion: string
  readonly keyId: string
}

/** Deletes every live backup version, newest first, as js-sdk's `resetKeyBackup` does (§8.5). */
export const deleteAllVersions = Effect.gen(function* () {
  const api = yield* HomeserverApi.HomeserverApi
  for (;;) {
    const current = yield* api.getBackupVersion().pipe(
      Effect.map(Option.some),
      Effect.catchTag("BackupNotFound", () => Effect.succeed(Option.none())),
    )
    if (Option.isNone(current) || current.value.version === undefined) return
    yield* api.deleteBackupVersion(current.value.version)
  }
})

const newSecretStorageKey = (passphrase: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function* () {
    const entropy = yield* Entropy.Entropy
    const crypto = yield* CryptoBackend.CryptoBackend
    if (Option.isNone(passphrase)) return { key: yield* entropy.randomBytes(32), passphrase: {} }
    const salt = Passphrase.generateSalt(yield* entropy.randomBytes(Passphrase.RANDOM_BYTES_FOR_STRING))
    const iterations = Passphrase.DEFAULT_PBKDF2_ITERATIONS
    const derived = yield* crypto.pbkdf2Sha512(passphrase.value, salt, iterations, 256)
    return { key: Redacted.value(derived), passphrase: { passphrase: { algorithm: SecretStorage.PBKDF2, salt, iterations, bits: 256 } } }
  })

/** Adds a 4S key with its key check and makes it the default. */
const addDefaultKey = (key: Uint8Array, extra: Record<string, unknown>) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const entropy = yield* Entropy.Entropy
    const keyId = Passphrase.generateKeyId(yield* entropy.randomBytes(Passphrase.RANDOM_BYTES_FOR_STRING))
    const check = AesHmacSha2.calculateKeyCheck(key, yield* entropy.randomBytes(16))
    const description = { algorithm: SecretStorage.SECRET_STORAGE_AES_HMAC_SHA2, name: "Recovery key", ...extra, ...check }
    yield* api.putAccountData(SecretStorage.keyEventType(keyId), description)
    yield* api.putAccountData(SecretStorage.DEFAULT_KEY_EVENT_TYPE, { key: keyId })
    return keyId
  })

/** Creates a backup version whose `auth_data` this device signs; returns its version and raw info. */
const createVersion = (device: DeviceState, backupKey: Uint8Array) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const publicKey = Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(backupKey))
    const authData = SignedJson.signJson({ public_key: publicKey }, device.userId, `ed25519:${device.deviceId}`, Redacted.value(device.seed))
    const version = yield* api.createBackupVersion({ algorithm: MegolmBackupV1.MEGOLM_BACKUP_V1, auth_data: authData })
    return { version, info: { algorithm: MegolmBackupV1.MEGOLM_BACKUP_V1, auth_data: authData, version } }
  })

/** The whole bootstrap; the device's store keeps the backup key and the active version. */
export const bootstrap = (device: DeviceState, passphrase: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const store = yield* BackupStore.BackupStore
    const entropy = yield* Entropy.Entropy
    const secretKey = yield* newSecretStorageKey(passphrase)
    const keyId = yield* addDefaultKey(secretKey.key, secretKey.passphrase)
    yield* deleteAllVersions
    const backupKey = yield* entropy.randomBytes(32)
    const { version, info } = yield* createVersion(device, backupKey)
    const encrypted = AesHmacSha2.encryptSecret(
      secretKey.key,
      SecretStorage.MEGOLM_BACKUP_SECRET,
      Base64.encodeBase64(backupKey),
      yield* entropy.randomBytes(16),
    )
    yield* api.putAccountData(SecretStorage.MEGOLM_BACKUP_SECRET, { encrypted: { [keyId]: encrypted } })
    yield* api.putAccountData(SecretStorage.KEY_BACKUP_EVENT_TYPE, { enabled: true })
    yield* store.storeBackupDecryptionKey(Redacted.make(backupKey), version)
    yield* store.setBackupState({ activeVersion: version, backupInfo: info })
    const recoveryKey = Redacted.make(RecoveryKey.encodeRecoveryKey(secretKey.key))
    secretKey.key.fill(0)
    return { recoveryKey, backupVersion: version, keyId } satisfies BootstrapResult
  })
