/**
 * `POST /room_keys/version` is not idempotent: a retry after a lost answer could create a second
 * version (and make the first read-only). After a 5xx or transport failure we GET the latest version
 * and adopt it only if its algorithm and canonical `auth_data` equal what we sent; otherwise POST again.
 */
import { BackupInfo } from "@matrix-backup/core"
import { CanonicalJson } from "@matrix-backup/core/adapter"
import type { HomeserverError, Ids } from "@matrix-backup/core"
import { Effect, Either, Option, Schema } from "effect"
import type { Settings } from "./Config.js"
import { type Retries, retries } from "./Retry.js"
import type { Call, Transport } from "./Transport.js"

type ApiError = HomeserverError.HomeserverApiError

const canonical = (value: unknown): string | undefined => Either.getOrUndefined(CanonicalJson.canonicalJson(value))

/** True when `info` is the version `body` would have created. */
export const isSameVersion = (info: BackupInfo.KeyBackupInfo, body: BackupInfo.CreateBackupVersionRequest): boolean => {
  if (info.algorithm !== body.algorithm) return false
  const sent = canonical(body.auth_data)
  return sent !== undefined && sent === canonical(info.auth_data.raw)
}

const postCall = (body: BackupInfo.CreateBackupVersionRequest): Call => ({
  method: "POST",
  path: "/room_keys/version",
  endpoint: "POST /room_keys/version",
  roomKeys: true,
  body: Schema.encodeSync(BackupInfo.CreateBackupVersionRequest)(body),
})

const latestCall: Call = { method: "GET", path: "/room_keys/version", endpoint: "GET /room_keys/version", roomKeys: true }

/** Did an earlier, unanswered POST create our version? None when it did not (or there is no backup). */
const findOurs = (transport: Transport, body: BackupInfo.CreateBackupVersionRequest) =>
  transport.json(latestCall, BackupInfo.KeyBackupInfo).pipe(
    Effect.map((info) => (isSameVersion(info, body) ? Option.fromNullable(info.version) : Option.none())),
    Effect.catchTag("BackupNotFound", () => Effect.succeed(Option.none<Ids.BackupVersion>())),
  )

/** POSTs, and after a failure retries (with one request's `delayFor`) only when it is safe. */
const postWithRetries = (
  settings: Settings,
  transport: Transport,
  body: BackupInfo.CreateBackupVersionRequest,
  delayFor: Retries["delayFor"],
): Effect.Effect<Ids.BackupVersion, ApiError> => {
  const post = Effect.map(transport.once(postCall(body), BackupInfo.CreateBackupVersionResponse), (r) => r.version)
  const retryLater = (error: ApiError, attempt: number): Effect.Effect<Ids.BackupVersion, ApiError> =>
    Effect.flatMap(delayFor(error), (delay) =>
      Option.match(delay, {
        onNone: () => Effect.fail(error),
        onSome: (wait) => Effect.zipRight(Effect.sleep(wait), attemptPost(attempt + 1)),
      }),
    )
  const attemptPost = (attempt: number): Effect.Effect<Ids.BackupVersion, ApiError> =>
    Effect.catchAll(post, (error) => {
      if (attempt >= settings.retry.maxAttempts) return Effect.fail(error)
      // A 429 was refused before anything was stored: posting again is safe.
      if (error._tag === "RateLimited") return retryLater(error, attempt)
      if (error._tag !== "TransportError" && !(error._tag === "HomeserverError" && error.reason === "ServerError")) {
        return Effect.fail(error)
      }
      if (error._tag === "TransportError" && error.reason === "Aborted") return Effect.fail(error)
      return findOurs(transport, body).pipe(
        // If even the check fails we cannot know whether it was created: report the original failure.
        Effect.catchAll(() => Effect.fail(error)),
        Effect.flatMap(
          Option.match({
            onSome: (version) =>
              Effect.as(Effect.logDebug("POST /room_keys/version: adopted the version an unanswered try created"), version),
            onNone: () => retryLater(error, attempt),
          }),
        ),
      )
    })
  return attemptPost(1)
}

/** Creates a backup version, retrying only when it is safe. */
export const createVersion = (
  settings: Settings,
  transport: Transport,
  body: BackupInfo.CreateBackupVersionRequest,
): Effect.Effect<Ids.BackupVersion, ApiError> =>
  Effect.flatMap(retries(settings.retry), ({ delayFor }) => postWithRetries(settings, transport, body, delayFor))
