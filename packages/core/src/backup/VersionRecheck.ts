/**
 * Asks the server whether the version uploads go to is still its current backup. Servers say "gone" or "replaced"
 * in different words (403 or 400 `M_WRONG_ROOM_KEYS_VERSION`, 400 `M_INVALID_PARAM`, 500, 404), so after an answer
 * that may mean either, the upload loop looks instead of guessing from the errcode (PROTOCOL.md §8.2).
 */
import { type Context, Effect, Either } from "effect"
import type { BackupVersion } from "../schema/Ids.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { BackupNotFound, WrongBackupVersion } from "../services/HomeserverError.js"

/** What the server said about the version. */
export type Recheck =
  /** Still the current backup: the failure was about something else. */
  | { readonly _tag: "Unchanged" }
  /** The version no longer exists. */
  | { readonly _tag: "Gone"; readonly error: BackupNotFound }
  /** The version exists but another one (or none readable) is current. */
  | { readonly _tag: "Replaced"; readonly error: WrongBackupVersion }
  /** The server could not be asked; the caller keeps backing off. */
  | { readonly _tag: "Unknown" }

const gone = (version: BackupVersion): Recheck => ({
  _tag: "Gone",
  error: new BackupNotFound({ version, message: `Backup version ${version} no longer exists on the server` }),
})

const replaced = (version: BackupVersion, current: string | undefined): Recheck => ({
  _tag: "Replaced",
  error: new WrongBackupVersion({
    ...(current === undefined ? {} : { currentVersion: current }),
    message: `Backup version ${version} is no longer the server's current backup`,
  }),
})

/** `GET /room_keys/version/{version}`, then `GET /room_keys/version`: two requests at most. */
export const recheckVersion = (api: Context.Tag.Service<HomeserverApi>, version: BackupVersion): Effect.Effect<Recheck> =>
  Effect.gen(function* () {
    const named = yield* Effect.either(api.getBackupVersion(version))
    if (Either.isLeft(named)) return named.left._tag === "BackupNotFound" ? gone(version) : { _tag: "Unknown" as const }
    const latest = yield* Effect.either(api.getBackupVersion())
    // Ours is live but "latest" is 404: Dendrite counts a deleted newer version as latest and refuses ours.
    if (Either.isLeft(latest)) return latest.left._tag === "BackupNotFound" ? replaced(version, undefined) : { _tag: "Unknown" as const }
    return latest.right.version === version ? { _tag: "Unchanged" as const } : replaced(version, latest.right.version)
  }).pipe(Effect.withSpan("KeyBackupEngine.recheckVersion"))
