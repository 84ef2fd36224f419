/**
 * Gets the backup decryption key from what the user typed: a recovery key (the 4S key, or for older clients the
 * backup key itself) or a passphrase (the 4S `m.pbkdf2` one, or the legacy backup passphrase). The key is
 * checked against the server's backup public key before use (PROTOCOL.md §5, §6.3, §6.5).
 */
import {
  AesHmacSha2,
  type BackupInfo,
  Base64,
  Bytes,
  CryptoBackend,
  Curve25519,
  HomeserverApi,
  Ids,
  RecoveryKey,
  SecretStorage,
} from "@matrix-backup/core"

import { Effect, Either, Option, Predicate, Redacted, Schema } from "effect"
import { CliError, toCliError } from "../CliError.js"

/** What the user gave to open the backup. */
export type Secret =
  | { readonly _tag: "RecoveryKey"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "Passphrase"; readonly value: Redacted.Redacted<string> }

/** An unlocked backup: its decryption key and the server's info for that version. */
export interface Unlocked {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly version: string
  readonly info: BackupInfo.KeyBackupInfo
  readonly via: "SecretStorage" | "BackupKey" | "LegacyPassphrase"
}

const wrong = (secret: Secret) =>
  secret._tag === "RecoveryKey"
    ? new CliError({ code: "WrongRecoveryKey", message: "The recovery key does not open this account's key backup" })
    : new CliError({ code: "WrongPassphrase", message: "The passphrase does not open this account's key backup" })

const matches = (candidate: Uint8Array, publicKey: Uint8Array) =>
  Bytes.constantTimeEqual(Curve25519.publicKeyFromPrivateKey(candidate), publicKey)

/** The server's current backup, which must be curve25519 with a usable public key. */
export const currentBackup = (version?: string) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const info = yield* api.getBackupVersion(version === undefined ? undefined : Schema.decodeSync(Ids.BackupVersion)(version)).pipe(
      Effect.catchTag("BackupNotFound", () =>
        Effect.fail(new CliError({ code: "NoBackup", message: version === undefined ? "There is no key backup on the homeserver" : `Backup version ${version} does not exist` })),
      ),
      Effect.mapError(toCliError),
    )
    if (info.auth_data._tag !== "Curve25519" || info.version === undefined) {
      return yield* new CliError({ code: "UnsupportedBackup", message: `Backup algorithm ${info.algorithm} is not supported` })
    }
    return { info, version: info.version, publicKey: info.auth_data.public_key }
  })

const accountData = <A>(type: string, decode: (u: unknown) => Either.Either<Option.Option<A>, unknown>) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const content = yield* Effect.mapError(api.getAccountData(type), toCliError)
    if (Option.isNone(content)) return Option.none<A>()
    return Either.getOrElse(decode(content.value), () => Option.none<A>())
  })

/** The default 4S key id and its aes-hmac-sha2 description, when the account has one. */
export const defaultSecretStorageKey = Effect.gen(function* () {
  const id = yield* accountData(SecretStorage.DEFAULT_KEY_EVENT_TYPE, SecretStorage.decodeDefaultKey)
  if (Option.isNone(id)) return Option.none()
  const description = yield* accountData(SecretStorage.keyEventType(id.value.key), SecretStorage.decodeKeyDescription)
  if (Option.isNone(description) || description.value._tag !== "AesHmacSha2") return Option.none()
  return Option.some({ keyId: id.value.key, description: description.value.description })
})

/** Decrypts `m.megolm_backup.v1` with a checked 4S key; None when the secret is not stored under that key. */
const backupKeyFromSecretStorage = (keyId: string, key: Uint8Array) =>
  Effect.gen(function* () {
    const secret = yield* accountData(SecretStorage.MEGOLM_BACKUP_SECRET, SecretStorage.decodeEncryptedSecret)
    if (Option.isNone(secret)) return Option.none<Uint8Array>()
    const entry = secret.value.encrypted[keyId]
    const { iv, ciphertext, mac } = entry ?? {}
    if (!Predicate.isString(iv) || !Predicate.isString(ciphertext) || !Predicate.isString(mac)) return Option.none<Uint8Array>()
    const text = AesHmacSha2.decryptSecret(key, SecretStorage.MEGOLM_BACKUP_SECRET, { iv, ciphertext, mac })
    if (Either.isLeft(text)) return Option.none<Uint8Array>()
    const bytes = Base64.decodeBase64(text.right.replace(/=+$/, ""))
    return bytes !== undefined && bytes.length === 32 ? Option.some(bytes) : Option.none<Uint8Array>()
  })

/** A 4S key from the secret: the recovery key decoded, or PBKDF2 of the passphrase with the key's parameters. */
const secretStorageKeyFrom = (secret: Secret, description: SecretStorage.AesHmacSha2KeyDescription) =>
  Effect.gen(function* () {
    if (secret._tag === "RecoveryKey") return Either.getRight(RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value)))
    const params = description.passphrase
    if (params === undefined || params.algorithm !== SecretStorage.PBKDF2) return Option.none<Uint8Array>()
    const pbkdf2 = Schema.decodeUnknownOption(SecretStorage.Pbkdf2Passphrase)(params)
    if (Option.isNone(pbkdf2)) return Option.none<Uint8Array>()
    const crypto = yield* CryptoBackend.CryptoBackend
    const { salt, iterations, bits } = pbkdf2.value
    const derived = yield* crypto.pbkdf2Sha512(secret.value, salt, iterations, bits ?? 256)
    return Option.some(Redacted.value(derived))
  })

const viaSecretStorage = (secret: Secret) =>
  Effect.gen(function* () {
    const found = yield* defaultSecretStorageKey
    if (Option.isNone(found)) return Option.none<Uint8Array>()
    const key = yield* secretStorageKeyFrom(secret, found.value.description)
    if (Option.isNone(key)) return Option.none<Uint8Array>()
    const { iv, mac } = found.value.description
    const checked = iv === undefined || mac === undefined || AesHmacSha2.checkKey(key.value, { iv: Base64.encodeBase64(iv), mac: Base64.encodeBase64(mac) })
    return checked ? yield* backupKeyFromSecretStorage(found.value.keyId, key.value) : Option.none<Uint8Array>()
  })

const viaDirectKey = (secret: Secret, info: BackupInfo.KeyBackupInfo) =>
  Effect.gen(function* () {
    if (secret._tag === "RecoveryKey") return Either.getRight(RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value)))
    if (info.auth_data._tag !== "Curve25519") return Option.none<Uint8Array>()
    const { private_key_salt: salt, private_key_iterations: iterations, private_key_bits: bits } = info.auth_data
    if (salt === undefined || iterations === undefined) return Option.none<Uint8Array>()
    const crypto = yield* CryptoBackend.CryptoBackend
    return Option.some(Redacted.value(yield* crypto.pbkdf2Sha512(secret.value, salt, iterations, bits ?? 256)))
  })

/** Opens the current (or given) backup with the user's secret; a malformed recovery key fails before any request. */
export const unlock = (secret: Secret, version?: string) =>
  Effect.gen(function* () {
    if (secret._tag === "RecoveryKey") {
      const decoded = RecoveryKey.decodeRecoveryKey(Redacted.value(secret.value))
      if (Either.isLeft(decoded)) return yield* toCliError(decoded.left)
      decoded.right.fill(0)
    }
    const backup = yield* currentBackup(version)
    const stored = yield* viaSecretStorage(secret)
    if (Option.isSome(stored)) {
      if (!matches(stored.value, backup.publicKey)) {
        return yield* new CliError({ code: "KeyMismatch", message: "The key in Secret Storage does not match the backup on the homeserver" })
      }
      return { key: Redacted.make(stored.value), version: backup.version, info: backup.info, via: "SecretStorage" } satisfies Unlocked
    }
    const direct = yield* viaDirectKey(secret, backup.info)
    if (Option.isSome(direct) && matches(direct.value, backup.publicKey)) {
      const via = secret._tag === "RecoveryKey" ? "BackupKey" : "LegacyPassphrase"
      return { key: Redacted.make(direct.value), version: backup.version, info: backup.info, via } satisfies Unlocked
    }
    return yield* wrong(secret)
  })
