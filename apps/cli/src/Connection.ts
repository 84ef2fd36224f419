/**
 * Who and where: homeserver URL, access token (Redacted, never echoed), user and device ids (asked from
 * `whoami` when absent), turned into the `HomeserverApi` layer every command uses.
 */
import { HomeserverApi, Ids } from "@matrix-backup/core"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { Duration, Effect, type Layer, Option, type Redacted, Schema } from "effect"
import { CliError, toCliError } from "./CliError.js"

/** Connection settings as given on the command line or in the environment. */
export interface ConnectionInput {
  readonly homeserver: string
  readonly accessToken: Redacted.Redacted<string>
  readonly userId: Option.Option<string>
  readonly deviceId: Option.Option<string>
}

/** A resolved connection: ids known and the port ready to provide. */
export interface Connection {
  readonly homeserver: string
  readonly userId: string
  readonly deviceId: string
  readonly api: Layer.Layer<HomeserverApi.HomeserverApi>
}

/** Retries kept short so an unreachable server is reported in seconds, not minutes. */
const RETRY = { maxAttempts: 3, baseDelay: Duration.millis(300), maxDelay: Duration.seconds(4) }

const checkUrl = (url: string) =>
  Effect.try({
    try: () => {
      const parsed = new URL(url)
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme")
      return url
    },
    catch: () => new CliError({ code: "Usage", message: `--homeserver must be an http(s) URL, got "${url}"` }),
  })

const checkUserId = (userId: string) =>
  Effect.mapError(
    Schema.decodeUnknown(Ids.UserId)(userId),
    () => new CliError({ code: "Usage", message: `--user-id must look like @name:server, got "${userId}"` }),
  )

/** The `HomeserverApi` layer for a base URL, token and user. */
export const apiLayer = (homeserver: string, accessToken: Redacted.Redacted<string>, userId: Ids.UserId) =>
  FetchHomeserverApi.layerFetch({ baseUrl: homeserver, accessToken, userId, userAgent: "matrix-backup-cli", retry: RETRY })

const whoami = (homeserver: string, accessToken: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const placeholder = yield* checkUserId("@whoami:invalid")
    const api = yield* Effect.provide(HomeserverApi.HomeserverApi, apiLayer(homeserver, accessToken, placeholder))
    return yield* Effect.mapError(api.whoami(), toCliError)
  })

/** Checks the token with `whoami` (a clear error before any work), resolves the ids and builds the API layer. */
export const connect = (input: ConnectionInput): Effect.Effect<Connection, CliError> =>
  Effect.gen(function* () {
    const homeserver = yield* checkUrl(input.homeserver)
    const me = yield* whoami(homeserver, input.accessToken)
    if (Option.isSome(input.userId) && input.userId.value !== me.user_id) {
      return yield* new CliError({ code: "Usage", message: `The access token belongs to ${me.user_id}, not ${input.userId.value}` })
    }
    const ids = { userId: me.user_id, deviceId: Option.getOrElse(input.deviceId, () => me.device_id ?? "") }
    if (ids.deviceId === "") {
      return yield* new CliError({ code: "Usage", message: "The homeserver did not say which device this token belongs to; pass --device-id" })
    }
    const userId = yield* checkUserId(ids.userId)
    return { homeserver, userId, deviceId: ids.deviceId, api: apiLayer(homeserver, input.accessToken, userId) }
  })
