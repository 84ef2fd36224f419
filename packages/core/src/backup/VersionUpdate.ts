/**
 * `PUT /room_keys/version/{v}` that checks it did what it says (PROTOCOL.md §2.1). Palpo 0.1.1 to 0.3.0 answered an
 * update with 200 after creating a new version from the body: empty, current, while `{v}` kept its keys and stopped
 * taking uploads. So after an update the latest version is read again, and another number than `{v}` is reported,
 * never taken as success. `carryIntoNewVersion` then moves what `{v}` holds into the new version without losing a key.
 */
import { type Context, Data, Effect, Either, Option, Redacted } from "effect"
import { matchesBackup } from "../crypto/BackupKey.js"
import type { KeyBackupRestore } from "../restore/KeyBackupRestore.js"
import type { RestoreError } from "../restore/RestoreError.js"
import type { UpdateBackupVersionRequest } from "../schema/BackupInfo.js"
import { BackupVersion } from "../schema/Ids.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { StorageError } from "../store/StorageError.js"
import type { KeyBackupEngine } from "./KeyBackupEngine.js"

/** The update was answered with success, but the server's current version is now `currentVersion`, not `version`. */
export class BackupVersionSuperseded extends Data.TaggedError("BackupVersionSuperseded")<{
  readonly version: string
  readonly currentVersion: string
  readonly message: string
}> {}

/** Updates `version`'s `auth_data`, then fails with `BackupVersionSuperseded` when it is no longer the current version. */
export const updateBackupVersionInPlace = (
  api: Context.Tag.Service<HomeserverApi>,
  version: BackupVersion,
  body: UpdateBackupVersionRequest,
): Effect.Effect<void, HomeserverApiError | BackupVersionSuperseded> =>
  Effect.gen(function* () {
    yield* api.updateBackupVersion(version, body)
    const latest = yield* api.getBackupVersion().pipe(
      Effect.map((info) => info.version),
      // Dendrite's 404 for a deleted newer latest says nothing about `version`, which the update just found live.
      Effect.catchTag("BackupNotFound", () => Effect.succeed(undefined)),
    )
    if (latest === undefined || latest === version) return
    return yield* Effect.fail(
      new BackupVersionSuperseded({
        version,
        currentVersion: latest,
        message: `The server made version ${latest} current when asked to update version ${version}; version ${version} no longer takes uploads`,
      }),
    )
  }).pipe(Effect.withSpan("KeyBackup.updateBackupVersionInPlace"))

/** The services `carryIntoNewVersion` uses. */
export interface CarryDeps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly store: Context.Tag.Service<BackupStore>
  readonly restore: Context.Tag.Service<KeyBackupRestore>
  readonly engine: Context.Tag.Service<KeyBackupEngine>
}

/** What `carryIntoNewVersion` did: `restored` keys came from the old version; uploads now go to `uploadsTo`. */
export interface Carried {
  readonly restored: number
  readonly uploadsTo: Option.Option<string>
}

/**
 * When the key this device holds for `version` also opens `currentVersion` (a minted copy of the same backup):
 * restores `version` (its keys from other devices come to this device, as pending for the new version), caches the
 * key for `currentVersion` and lets the engine switch uploads there, where every key then goes once. The old version
 * is left as it is: nothing is deleted. Otherwise nothing is done (None): the engine's next check decides.
 */
export const carryIntoNewVersion = (
  deps: CarryDeps,
  superseded: BackupVersionSuperseded,
): Effect.Effect<Option.Option<Carried>, HomeserverApiError | StorageError | RestoreError> =>
  Effect.gen(function* () {
    const held = yield* deps.store.getBackupDecryptionKey()
    if (Option.isNone(held) || held.value.version !== superseded.version) return Option.none()
    const next = yield* deps.api.getBackupVersion(BackupVersion.make(superseded.currentVersion))
    if (!Either.getOrElse(matchesBackup(Redacted.value(held.value.key), next), () => false)) return Option.none()
    const restored = yield* deps.restore.restoreKeyBackup()
    yield* deps.store.storeBackupDecryptionKey(held.value.key, superseded.currentVersion)
    yield* deps.engine.checkKeyBackupAndEnable(true)
    const uploadsTo = yield* deps.engine.getActiveSessionBackupVersion()
    return Option.some({ restored: restored.imported, uploadsTo })
  }).pipe(Effect.withSpan("KeyBackup.carryIntoNewVersion"))
