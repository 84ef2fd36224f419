/**
 * Who and where: homeserver URL, access token (Redacted, never echoed), user and device ids (asked from
 * `whoami` when absent), turned into the `HomeserverApi` layer every command uses.
 */
import { HomeserverApi, Ids } from "@matrix-backup/core"
import { FetchHomeserverApi } from "@matrix-backup/http-fetch"
import { Duration, Effect, type Layer, type Redacted, Schema } from "effect"
import { CliError, toCliError } from "./CliError.js"
import { accessTokenOrAsk } from "./Secrets.js"

/** Connection settings as given on the command line or in the environment (absent ones are asked for or refused). */
export interface ConnectionInput {
  readonly homeserver: string | undefined
  readonly accessToken: Redacted.Redacted<string> | undefined
  readonly userId: string | undefined
  readonly deviceId: string | undefined
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

const checkUrl = (url: string | undefined) =>
  url === undefined
    ? Effect.fail(new CliError({ code: "Usage", message: "No homeserver: pass --homeserver URL or set MATRIX_HOMESERVER" }))
    : Effect.try({
    try: () => {
      const parsed = new URL(url)
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme")
      return url
    },
    catch: () => new CliError({ code: "Usage", message: `--homeserver must be an http(s) URL such as https://matrix.example.org, not "${url}"` }),
  })

const checkUserId = (userId: string) =>
  Effect.mapError(
    Schema.decodeUnknown(Ids.UserId)(userId),
    () => new CliError({ code: "Usage", message: `--user-id must look like @name:server, got "${userId}"` }),
  )

/** The `HomeserverApi` layer for a base URL, token and user. */
export const apiLayer = (homeserver: string, accessToken: Redacted.Redacted<string>, userId: Ids.UserId) =>
  FetchHomeserverApi.layerFetch({ baseUrl: homeserver, accessToken, userId, userAgent: "matrix-backup-cli", retry: RETRY })

/** The first request: a homeserver that cannot be reached is reported with its address. */
const whoami = (homeserver: string, accessToken: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const placeholder = yield* checkUserId("@whoami:invalid")
    const api = yield* Effect.provide(HomeserverApi.HomeserverApi, apiLayer(homeserver, accessToken, placeholder))
    return yield* api.whoami().pipe(
      Effect.catchTag("TransportError", (error) =>
        Effect.fail(
          new CliError({
            code: "Unreachable",
            message: `Could not reach the homeserver at ${homeserver} (${error.reason === "Timeout" ? "no answer in time" : "connection failed"}); check the URL and your network`,
          }),
        ),
      ),
      Effect.mapError(toCliError),
    )
  })

/** Checks the token with `whoami` (a clear error before any work), resolves the ids and builds the API layer. */
export const connect = (input: ConnectionInput): Effect.Effect<Connection, CliError> =>
  Effect.gen(function* () {
    const homeserver = yield* checkUrl(input.homeserver)
    const accessToken = yield* accessTokenOrAsk(input.accessToken, homeserver)
    const me = yield* whoami(homeserver, accessToken)
    if (input.userId !== undefined && input.userId !== me.user_id) {
      return yield* new CliError({ code: "Usage", message: `The access token belongs to ${me.user_id}, not ${input.userId}` })
    }
    const ids = { userId: me.user_id, deviceId: input.deviceId ?? me.device_id ?? "" }
    if (ids.deviceId === "") {
      return yield* new CliError({ code: "Usage", message: "The homeserver did not say which device this token belongs to; pass --device-id" })
    }
    const userId = yield* checkUserId(ids.userId)
    return { homeserver, userId, deviceId: ids.deviceId, api: apiLayer(homeserver, accessToken, userId) }
  })
