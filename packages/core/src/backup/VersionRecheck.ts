/**
 * Asks the server whether the version uploads go to is still its current backup. Servers say "gone" or "replaced"
 * in different words (403 or 400 `M_WRONG_ROOM_KEYS_VERSION`, 400 `M_INVALID_PARAM`, 500, 404), so after an answer
 * that may mean either, the upload loop looks instead of guessing from the errcode (PROTOCOL.md §8.2).
 */
import { Clock, type Context, Effect, Either, Option } from "effect"
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

const goneError = (version: BackupVersion) => new BackupNotFound({ version, message: `Backup version ${version} no longer exists on the server` })

const gone = (version: BackupVersion): Recheck => ({ _tag: "Gone", error: goneError(version) })

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

/** When a run last saw its version exist (ms), and whether the server accepted batches since. */
export interface AcceptedSinceCheck {
  at: number
  accepted: boolean
}

/** How often a long run confirms that its version still exists, although every batch is accepted. */
const VERIFY_INTERVAL_MS = 20_000

/**
 * Some servers accept uploads to a deleted version (conduwuit, tuwunel, once the account has no backup left), so a
 * run whose batches are accepted asks `GET /room_keys/version/{version}` every 20 s, and before it reports done
 * (`force`). Some(error) when the version is gone.
 */
export const verifyAccepted = (api: Context.Tag.Service<HomeserverApi>, version: BackupVersion, since: AcceptedSinceCheck, force: boolean) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    if (!since.accepted || (!force && now - since.at < VERIFY_INTERVAL_MS)) return Option.none<BackupNotFound>()
    const named = yield* Effect.either(api.getBackupVersion(version))
    if (Either.isLeft(named) && named.left._tag === "BackupNotFound") return Option.some(goneError(version))
    since.at = now
    since.accepted = false
    return Option.none<BackupNotFound>()
  })
