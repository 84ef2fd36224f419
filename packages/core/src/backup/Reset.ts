/**
 * `resetKeyBackup` and `deleteKeyBackupVersion` (PROTOCOL.md §8.5): delete every version (GET latest / DELETE
 * until 404), create a new one signed by our device (and master key when held), cache its key, put it in 4S when
 * 4S has a default key, and enable it, which re-uploads every key to it.
 */
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { wipe } from "../crypto/Bytes.js"
import { publicKeyFromPrivateKey } from "../crypto/Curve25519.js"
import { encodeBase64 } from "../schema/Base64.js"
import { decodeAuthData, MEGOLM_BACKUP_V1_CURVE25519 } from "../schema/BackupInfo.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { BackupVersion } from "../schema/Ids.js"
import { SecretStorage } from "../secret-storage/SecretStorage.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { DeviceKeys } from "../services/DeviceKeys.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { BackupTrust } from "../trust/BackupTrust.js"
import type { Activation } from "./Activation.js"
import type { Checker } from "./Check.js"
import { EngineError, fromHomeserver, fromStorage } from "./EngineError.js"
import type { KeyBackupCheck } from "./KeyBackupEngine.js"

/** The 4S secret name of the backup key. */
export const BACKUP_SECRET_NAME = "m.megolm_backup.v1"
/** A server that still answers after this many deletes is not behaving like Synapse. */
const MAX_DELETES = 1000

/** Builds reset and delete over the activation holder and the checker. */
export const makeReset = (activation: Activation, checker: Checker) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi
    const store = yield* BackupStore
    const device = yield* DeviceKeys
    const entropy = yield* Entropy
    const events = yield* BackupEvents
    const trust = yield* BackupTrust
    const secretStorage = yield* Effect.serviceOption(SecretStorage)

    /** GET latest / DELETE until the server says there is none (it resurfaces older versions after a delete). */
    const deleteAllVersions = Effect.gen(function* () {
      for (let i = 0; i < MAX_DELETES; i++) {
        const latest = yield* Effect.either(api.getBackupVersion())
        if (Either.isLeft(latest)) {
          if (latest.left._tag === "BackupNotFound") return
          return yield* Effect.fail(fromHomeserver("deleteOldVersions", latest.left))
        }
        const version = latest.right.version
        if (version === undefined) break
        yield* Effect.mapError(api.deleteBackupVersion(version), (e) => fromHomeserver("deleteOldVersions", e))
      }
      return yield* Effect.fail(
        new EngineError({ reason: "ServerMisbehaves", step: "deleteOldVersions", message: "deleteOldVersions: the server keeps reporting a backup" }),
      )
    })

    const storeInSecretStorage = (key: Uint8Array) =>
      Option.match(secretStorage, {
        onNone: () => Effect.void,
        onSome: (ssss) =>
          Effect.gen(function* () {
            const defaultKey = yield* ssss.getDefaultKeyId()
            if (Option.isNone(defaultKey)) return
            yield* ssss.store(BACKUP_SECRET_NAME, Redacted.make(encodeBase64(key)))
          }).pipe(
            Effect.mapError(
              (e) =>
                new EngineError({
                  reason: "SecretStorage",
                  step: "storeInSecretStorage",
                  cause: e._tag === "SecretStorageError" ? e.reason : e._tag,
                  message: "storeInSecretStorage: the new backup is enabled, but its key could not be saved in secret storage",
                }),
            ),
          ),
      })

    /** Creates, signs, caches and enables a new version with `key`. */
    const createWith = (key: Uint8Array) =>
      Effect.gen(function* () {
        const publicKey = publicKeyFromPrivateKey(key)
        const authData = yield* device.signJson({ public_key: encodeBase64(publicKey) })
        const created = yield* api.createBackupVersion({ algorithm: MEGOLM_BACKUP_V1_CURVE25519, auth_data: authData }).pipe(
          Effect.mapError((e) => fromHomeserver("createVersion", e)),
        )
        const version = BackupVersion.make(created)
        // Built locally, with no extra GET, as matrix-js-sdk does.
        const info: KeyBackupInfo & { readonly version: BackupVersion } = {
          algorithm: MEGOLM_BACKUP_V1_CURVE25519,
          auth_data: decodeAuthData(MEGOLM_BACKUP_V1_CURVE25519, authData),
          version,
          count: 0,
          etag: "",
        }
        yield* store.storeBackupDecryptionKey(Redacted.make(Uint8Array.from(key)), version).pipe(
          Effect.mapError((e) => fromStorage("cacheKey", e)),
        )
        yield* events.publish({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version })
        const result = yield* trust.isKeyBackupTrusted(info)
        const check: KeyBackupCheck = {
          backupInfo: info,
          trustInfo: { trusted: result.trusted, matchesDecryptionKey: result.matchesDecryptionKey },
        }
        yield* activation.enable(info, publicKey)
        yield* checker.remember(Option.some(check))
        yield* storeInSecretStorage(key)
        return check
      })

    const resetKeyBackup: Effect.Effect<KeyBackupCheck, EngineError> = Effect.gen(function* () {
      yield* deleteAllVersions
      const key = yield* entropy.randomBytes(32)
      return yield* Effect.ensuring(createWith(key), Effect.sync(() => wipe(key)))
    }).pipe(checker.exclusive, Effect.withSpan("KeyBackupEngine.resetKeyBackup"))

    const deleteKeyBackupVersion = (version: string): Effect.Effect<void, EngineError> =>
      Effect.gen(function* () {
        const parsed = Either.getOrUndefined(Schema.decodeUnknownEither(BackupVersion)(version))
        if (parsed === undefined) {
          return yield* Effect.fail(new EngineError({ reason: "NotFound", step: "deleteVersion", message: "deleteVersion: empty version" }))
        }
        yield* Effect.mapError(api.deleteBackupVersion(parsed), (e) => fromHomeserver("deleteVersion", e))
        const current = yield* activation.current
        if (Option.isSome(current) && current.value.version === version) yield* activation.disable("Deleted", version)
        yield* checker.forget(version)
      }).pipe(Effect.withSpan("KeyBackupEngine.deleteKeyBackupVersion"))

    return { resetKeyBackup, deleteKeyBackupVersion }
  })
