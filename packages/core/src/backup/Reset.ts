/**
 * `resetKeyBackup` and `deleteKeyBackupVersion` (PROTOCOL.md §8.5): delete every version (GET latest / DELETE
 * until 404, then the versions a server's "latest" hides), create a new one signed by our device (and master key when held), cache its key, put it in 4S when
 * 4S has a default key, and enable it, which re-uploads every key to it.
 */
import { type Context, Effect, Either, Option, Redacted, Schema } from "effect"
import { encodeBackupKeySecret } from "../crypto/BackupKey.js"
import { wipe } from "../crypto/Bytes.js"
import { publicKeyFromPrivateKey } from "../crypto/Curve25519.js"
import { encodeBase64 } from "../schema/Base64.js"
import { decodeAuthData, MEGOLM_BACKUP_V1_CURVE25519 } from "../schema/BackupInfo.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { BackupVersion } from "../schema/Ids.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import { SecretStorage } from "../secret-storage/SecretStorage.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { DeviceKeys } from "../services/DeviceKeys.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { BackupTrust } from "../trust/BackupTrust.js"
import type { Activation } from "./Activation.js"
import type { Checker } from "./Check.js"
import { deleteAllVersions, deleteHiddenBelow } from "./DeleteAllVersions.js"
import { EngineError, fromHomeserver, fromStorage } from "./EngineError.js"
import type { KeyBackupCheck } from "./KeyBackupEngine.js"

/** What the steps below share: the ports, the optional 4S service, the activation holder and the checker. */
interface Deps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly store: Context.Tag.Service<BackupStore>
  readonly device: Context.Tag.Service<DeviceKeys>
  readonly entropy: Context.Tag.Service<Entropy>
  readonly events: Context.Tag.Service<BackupEvents>
  readonly trust: Context.Tag.Service<BackupTrust>
  readonly secretStorage: Option.Option<Context.Tag.Service<SecretStorage>>
  readonly activation: Activation
  readonly checker: Checker
}

/** The versions this device knows (its held key's, the last active one): hints for servers whose "latest" hides versions. */
const knownVersions = (d: Deps) =>
  Effect.gen(function* () {
    const held = yield* d.store.getBackupDecryptionKey()
    const state = yield* d.store.getBackupState()
    return [...Option.toArray(Option.map(held, (h) => h.version)), ...(state.activeVersion === null ? [] : [state.activeVersion])]
  }).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))

/** Puts the backup key in 4S when 4S is there and has a default key. */
const storeInSecretStorage = (d: Deps, key: Uint8Array) =>
  Option.match(d.secretStorage, {
    onNone: () => Effect.void,
    onSome: (ssss) =>
      Effect.gen(function* () {
        const defaultKey = yield* ssss.getDefaultKeyId()
        if (Option.isNone(defaultKey)) return
        yield* ssss.store(MEGOLM_BACKUP_SECRET, Redacted.make(encodeBackupKeySecret(key)))
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

/** Signs `auth_data` for `publicKey`, creates the version and returns its info, built locally with no extra GET (as matrix-js-sdk does). */
const createVersion = (d: Deps, publicKey: Uint8Array) =>
  Effect.gen(function* () {
    const authData = yield* d.device.signJson({ public_key: encodeBase64(publicKey) })
    const created = yield* d.api.createBackupVersion({ algorithm: MEGOLM_BACKUP_V1_CURVE25519, auth_data: authData }).pipe(
      Effect.mapError((e) => fromHomeserver("createVersion", e)),
    )
    const version = BackupVersion.make(created)
    const info: KeyBackupInfo & { readonly version: BackupVersion } = {
      algorithm: MEGOLM_BACKUP_V1_CURVE25519,
      auth_data: decodeAuthData(MEGOLM_BACKUP_V1_CURVE25519, authData),
      version,
      count: 0,
      etag: "",
    }
    return info
  })

/** Keeps a copy of the key in the store for `version` (announced once the version is enabled). */
const cacheKey = (d: Deps, key: Uint8Array, version: BackupVersion) =>
  d.store.storeBackupDecryptionKey(Redacted.make(Uint8Array.from(key)), version).pipe(Effect.mapError((e) => fromStorage("cacheKey", e)))

/** Creates, signs, caches and enables a new version with `key`. */
const createWith = (d: Deps, key: Uint8Array) =>
  Effect.gen(function* () {
    const publicKey = publicKeyFromPrivateKey(key)
    const info = yield* createVersion(d, publicKey)
    yield* cacheKey(d, key, info.version)
    const result = yield* d.trust.isKeyBackupTrusted(info)
    const check: KeyBackupCheck = {
      backupInfo: info,
      trustInfo: { trusted: result.trusted, matchesDecryptionKey: result.matchesDecryptionKey },
    }
    yield* d.activation.enable(info, publicKey)
    yield* d.checker.remember(Option.some(check))
    // As matrix-js-sdk: KeyBackupStatus(true) first, so a listener of KeyBackupDecryptionKeyCached sees the new version active.
    yield* d.events.publish({ name: CryptoEvent.KeyBackupDecryptionKeyCached, version: info.version })
    yield* storeInSecretStorage(d, key)
    return check
  })

/** Deletes every version, then creates and enables a new one with a fresh key (wiped afterwards). */
const resetKeyBackup = (d: Deps): Effect.Effect<KeyBackupCheck, EngineError> =>
  Effect.gen(function* () {
    // Refuse before deleting anything: without the device's signing key the new version could not be signed.
    if (!d.device.canSign) {
      const message = "createVersion: a new backup needs the device's signing key (createKeyBackupClient's deviceSigningKey)"
      return yield* Effect.fail(new EngineError({ reason: "NoSigningKey", step: "createVersion", message }))
    }
    const { seen, latestWasLive } = yield* deleteAllVersions(d.api, yield* knownVersions(d))
    const key = yield* d.entropy.randomBytes(32)
    const check = yield* Effect.ensuring(createWith(d, key), Effect.sync(() => wipe(key)))
    if (latestWasLive) return check
    // "Latest" was 404 from the start: the new version is set up, an older one found below it now is deleted, and a
    // failure here only warns.
    yield* deleteHiddenBelow(d.api, check.backupInfo.version ?? "", seen).pipe(
      Effect.catchAll((error) => Effect.logWarning(`Could not look for older backup versions below the new one: ${error.message}`)),
    )
    return check
  }).pipe(d.checker.exclusive, Effect.withSpan("KeyBackupEngine.resetKeyBackup"))

/** Deletes one version; disables upload when it was the active one. */
const deleteKeyBackupVersion = (d: Deps): ((version: string) => Effect.Effect<void, EngineError>) =>
  Effect.fn("KeyBackupEngine.deleteKeyBackupVersion")(function* (version: string) {
    const parsed = Either.getOrUndefined(Schema.decodeUnknownEither(BackupVersion)(version))
    if (parsed === undefined) {
      return yield* Effect.fail(new EngineError({ reason: "NotFound", step: "deleteVersion", message: "deleteVersion: empty version" }))
    }
    yield* Effect.mapError(d.api.deleteBackupVersion(parsed), (e) => fromHomeserver("deleteVersion", e))
    const current = yield* d.activation.current
    if (Option.isSome(current) && current.value.version === version) yield* d.activation.disable("Deleted", version)
    yield* d.checker.forget(version)
  })

/** Builds reset and delete over the activation holder and the checker. */
export const makeReset = (activation: Activation, checker: Checker) =>
  Effect.gen(function* () {
    const d: Deps = {
      api: yield* HomeserverApi,
      store: yield* BackupStore,
      device: yield* DeviceKeys,
      entropy: yield* Entropy,
      events: yield* BackupEvents,
      trust: yield* BackupTrust,
      secretStorage: yield* Effect.serviceOption(SecretStorage),
      activation,
      checker,
    }
    return { resetKeyBackup: resetKeyBackup(d), deleteKeyBackupVersion: deleteKeyBackupVersion(d) }
  })
