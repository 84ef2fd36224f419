/**
 * What a restore needs before any download: the cached decryption key and a server backup version
 * whose public key it matches (PROTOCOL.md §8.3 steps 1–2), and the legacy passphrase derivation (§5.3).
 */
import type { Context } from "effect"
import { Effect, Option, Redacted } from "effect"
import { isBackupKeyFor } from "../crypto/BackupKey.js"
import type { Curve25519AuthData, KeyBackupInfo } from "../schema/BackupInfo.js"
import { BackupVersion } from "../schema/Ids.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { CryptoBackend } from "../services/CryptoBackend.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { RestoreError } from "./RestoreError.js"

/** A usable restore source. `count` is the server's session count (0 when absent). */
export interface RestoreTarget {
  readonly version: BackupVersion
  readonly privateKey: Redacted.Redacted<Uint8Array>
  readonly count: number
}

const homeserverFailure = (version: string | undefined) => (cause: RestoreError["cause"] & object) =>
  new RestoreError({
    reason: cause._tag === "BackupNotFound" ? "BackupVersionNotFound" : "HomeserverFailure",
    ...(version === undefined ? {} : { version }),
    cause,
    message: cause._tag === "BackupNotFound" ? `Backup version ${version ?? "(latest)"} not found on the server` : "Homeserver request failed",
  })

const storeFailure = (cause: RestoreError["cause"] & object) =>
  new RestoreError({ reason: "StoreFailure", cause, message: "The store failed" })

/** The curve25519 auth_data of `info`, or `UnsupportedAlgorithm`. */
export const curve25519AuthData = (info: KeyBackupInfo, version: string): Effect.Effect<Curve25519AuthData, RestoreError> =>
  info.auth_data._tag === "Curve25519"
    ? Effect.succeed(info.auth_data)
    : Effect.fail(new RestoreError({ reason: "UnsupportedAlgorithm", version, message: `Backup algorithm ${info.algorithm} cannot be restored` }))

const mismatch = (version: string) =>
  new RestoreError({ reason: "DecryptionKeyDoesNotMatch", version, message: "The key backup on the server does not match the decryption key" })

/**
 * Checks a server version (the current one when `version` is undefined) against a private key; fails with the typed
 * reasons of §8.3.
 */
export const checkVersion = (
  api: Context.Tag.Service<HomeserverApi>,
  version: string | undefined,
  privateKey: Redacted.Redacted<Uint8Array>,
): Effect.Effect<RestoreTarget, RestoreError> =>
  Effect.gen(function* () {
    const info = yield* Effect.mapError(api.getBackupVersion(version === undefined ? undefined : BackupVersion.make(version)), homeserverFailure(version))
    const found = version ?? info.version
    if (found === undefined) {
      return yield* Effect.fail(new RestoreError({ reason: "BackupVersionNotFound", message: "The server's backup info has no version" }))
    }
    const authData = yield* curve25519AuthData(info, found)
    if (!isBackupKeyFor(Redacted.value(privateKey), authData.public_key)) return yield* Effect.fail(mismatch(found))
    return { version: BackupVersion.make(found), privateKey, count: info.count ?? 0 }
  })

/** The cached key and its version, checked against the server. */
export const resolveTarget = (
  api: Context.Tag.Service<HomeserverApi>,
  store: Context.Tag.Service<BackupStore>,
): Effect.Effect<RestoreTarget, RestoreError> =>
  Effect.gen(function* () {
    const cached = yield* Effect.mapError(store.getBackupDecryptionKey(), storeFailure)
    if (Option.isNone(cached)) {
      return yield* Effect.fail(new RestoreError({ reason: "NoDecryptionKey", message: "No backup decryption key is cached" }))
    }
    return yield* checkVersion(api, cached.value.version, cached.value.key)
  })

/**
 * Derives a legacy passphrase backup key (PBKDF2-SHA-512 over `private_key_salt`, `private_key_iterations`,
 * `private_key_bits` or 256) for the latest server version and checks it against the public key. Keeps nothing.
 */
export const derivePassphraseKey = (
  api: Context.Tag.Service<HomeserverApi>,
  backend: Context.Tag.Service<CryptoBackend>,
  passphrase: Redacted.Redacted<string>,
): Effect.Effect<RestoreTarget, RestoreError> =>
  Effect.gen(function* () {
    const info = yield* Effect.mapError(api.getBackupVersion(), homeserverFailure(undefined))
    const version = info.version
    if (version === undefined) {
      return yield* Effect.fail(new RestoreError({ reason: "BackupVersionNotFound", message: "The server's backup info has no version" }))
    }
    const authData = yield* curve25519AuthData(info, version)
    const { private_key_salt: salt, private_key_iterations: iterations } = authData
    if (salt === undefined || iterations === undefined) {
      return yield* Effect.fail(new RestoreError({ reason: "NotPassphraseBackup", version, message: "This backup's key was not derived from a passphrase" }))
    }
    const privateKey = yield* backend.pbkdf2Sha512(passphrase, salt, iterations, authData.private_key_bits ?? 256)
    if (!isBackupKeyFor(Redacted.value(privateKey), authData.public_key)) return yield* Effect.fail(mismatch(version))
    return { version, privateKey, count: info.count ?? 0 }
  })

/** `derivePassphraseKey`, then caches the key in the store. */
export const deriveFromPassphrase = (
  api: Context.Tag.Service<HomeserverApi>,
  store: Context.Tag.Service<BackupStore>,
  backend: Context.Tag.Service<CryptoBackend>,
  passphrase: Redacted.Redacted<string>,
): Effect.Effect<RestoreTarget, RestoreError> =>
  Effect.tap(derivePassphraseKey(api, backend, passphrase), (target) =>
    Effect.mapError(store.storeBackupDecryptionKey(target.privateKey, target.version), storeFailure),
  )
