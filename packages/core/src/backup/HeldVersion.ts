/**
 * The backup version this device holds a key for, when the server still has it and the key opens it. Dendrite counts
 * a deleted newer version as "latest", so its 404 for the latest can hide an older live version: callers look here
 * before saying there is no backup.
 */
import type { Context } from "effect"
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { matchesBackup } from "../crypto/BackupKey.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { BackupVersion } from "../schema/Ids.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { StorageError } from "../store/StorageError.js"

/** A live version and the held key that opens it. */
export interface HeldVersion {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly version: BackupVersion
  readonly info: KeyBackupInfo
}

/** The key this device holds, as the store keeps it. */
export interface HeldKey {
  readonly key: Redacted.Redacted<Uint8Array>
  readonly version: string
}

const decodeVersion = Schema.decodeUnknownOption(BackupVersion)

/** `GET /room_keys/version/{held.version}`: the version when it is live and `held.key` opens it, else None. */
export const liveVersionOpenedBy = (
  api: Context.Tag.Service<HomeserverApi>,
  held: HeldKey,
): Effect.Effect<Option.Option<HeldVersion>, HomeserverApiError> =>
  Effect.gen(function* () {
    const version = decodeVersion(held.version)
    if (Option.isNone(version)) return Option.none()
    const info = yield* api.getBackupVersion(version.value).pipe(
      Effect.map(Option.some),
      Effect.catchTag("BackupNotFound", () => Effect.succeedNone),
    )
    if (Option.isNone(info)) return Option.none()
    const opens = Either.getOrElse(matchesBackup(Redacted.value(held.key), info.value), () => false)
    return opens ? Option.some({ key: held.key, version: version.value, info: info.value }) : Option.none()
  })

/** `GET /room_keys/version/{held}` when this device holds a backup key; None when it holds none or the key does not open it. */
export const heldLiveVersion = (
  api: Context.Tag.Service<HomeserverApi>,
  store: Context.Tag.Service<BackupStore>,
): Effect.Effect<Option.Option<HeldVersion>, HomeserverApiError | StorageError> =>
  Effect.flatMap(store.getBackupDecryptionKey(), (held) => (Option.isNone(held) ? Effect.succeedNone : liveVersionOpenedBy(api, held.value)))
