/**
 * `PUT /room_keys/version/{v}` as the spec says, and once more on `POST` to the same path when the server refuses the
 * method: every Palpo release routes the update on POST only and answers a PUT with 405 `M_UNRECOGNIZED`
 * (PROTOCOL.md §1.2). What the POST did is for the caller to check (`VersionUpdate` reads the latest version again,
 * since Palpo before 0.4.0 made a new version there). A second refusal ends as one `HomeserverError`, never a loop.
 */
import { HomeserverError } from "@matrix-backup/core"
import type { BackupInfo, Ids } from "@matrix-backup/core"
import { Effect, Schema } from "effect"
import { segment } from "./Transport.js"
import type { Call, Transport } from "./Transport.js"

type ApiError = HomeserverError.HomeserverApiError
type Body = typeof BackupInfo.UpdateBackupVersionRequest.Encoded

/** The server has no handler for this method on the path: 405, or a 404/400 that says `M_UNRECOGNIZED`. */
export const isMethodRefused = (error: ApiError): error is HomeserverError.HomeserverError =>
  error._tag === "HomeserverError" &&
  (error.status === 405 || (error.errcode === "M_UNRECOGNIZED" && (error.status === 404 || error.status === 400)))

const updateCall = (method: "PUT" | "POST", version: Ids.BackupVersion, body: Body): Call => ({
  method,
  path: `/room_keys/version/${segment(version)}`,
  endpoint: `${method} /room_keys/version/{version}`,
  roomKeys: true,
  version,
  body,
})

const bothRefused = (put: HomeserverError.HomeserverError, post: HomeserverError.HomeserverError) =>
  new HomeserverError.HomeserverError({
    reason: "Unsupported",
    status: post.status,
    ...(post.errcode === undefined ? {} : { errcode: post.errcode }),
    message: `The server takes no backup version update: PUT /room_keys/version/{version} answered ${put.status}, POST ${post.status}`,
  })

/**
 * Replaces a version's `auth_data`. The PUT follows the retry policy (it is idempotent); the POST is sent once, because
 * on Palpo before 0.4.0 each POST makes a new version, so a blind retry after a lost answer could make two.
 */
export const updateVersion = (
  transport: Transport,
  version: Ids.BackupVersion,
  body: Body,
): Effect.Effect<void, ApiError> =>
  transport.json(updateCall("PUT", version, body), Schema.Unknown).pipe(
    Effect.catchIf(isMethodRefused, (put) =>
      Effect.logDebug(`PUT /room_keys/version/{version} refused (${put.status}); sending the update on POST`).pipe(
        Effect.zipRight(transport.once(updateCall("POST", version, body), Schema.Unknown)),
        Effect.catchIf(isMethodRefused, (post) => Effect.fail(bothRefused(put, post))),
      ),
    ),
    Effect.asVoid,
  )
