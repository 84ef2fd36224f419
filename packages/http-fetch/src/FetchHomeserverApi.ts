/**
 * `HomeserverApi` over `@effect/platform` `HttpClient`. It requires `HttpClient.HttpClient`: Node 18+
 * and browsers provide it with `FetchHttpClient.layer` from `@effect/platform` (or use `layerFetch`).
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { BackupInfo, DeviceKeysSchema, HomeserverApi, HomeserverError, Json, KeyBackupData } from "@matrix-backup/core"
import { ParseErrorSummary } from "@matrix-backup/core/adapter"
import type { Ids } from "@matrix-backup/core"
import { Config, Effect, Layer, Option, Schema, Stream } from "effect"
import type { ConfigError } from "effect"
import { resolve } from "./Config.js"
import type { FetchHomeserverApiConfig, Settings } from "./Config.js"
import { createVersion } from "./CreateVersion.js"
import { parseRoomKeys } from "./RoomKeyStream.js"
import type { Scope } from "./RoomKeyStream.js"
import { makeTransport, segment } from "./Transport.js"
import type { Call, Transport } from "./Transport.js"
import { updateVersion } from "./UpdateVersion.js"

const keysCall = (method: Call["method"], version: Ids.BackupVersion, roomId?: Ids.RoomId, sessionId?: Ids.SessionId) => {
  const room = roomId === undefined ? "" : `/${segment(roomId)}`
  const session = sessionId === undefined ? "" : `/${segment(sessionId)}`
  const shape = `${roomId === undefined ? "" : "/{roomId}"}${sessionId === undefined ? "" : "/{sessionId}"}`
  return {
    method,
    path: `/room_keys/keys${room}${session}`,
    query: { version },
    endpoint: `${method} /room_keys/keys${shape}`,
    roomKeys: true,
    version,
  } satisfies Call
}

/** A `/room_keys/version[/{version}]` call. */
export const versionCall = (method: Call["method"], version?: Ids.BackupVersion, body?: unknown): Call => ({
  method,
  path: version === undefined ? "/room_keys/version" : `/room_keys/version/${segment(version)}`,
  endpoint: `${method} /room_keys/version${version === undefined ? "" : "/{version}"}`,
  roomKeys: true,
  ...(version === undefined ? {} : { version }),
  ...(body === undefined ? {} : { body }),
})

/**
 * Encodes a request body lazily. A value the schema rejects (e.g. a negative index, which the types
 * cannot rule out) is a bug in the caller: it dies naming the paths, never the values.
 */
const withBody = <A, I, B>(
  schema: Schema.Schema<A, I>,
  value: A,
  f: (body: I) => Effect.Effect<B, HomeserverError.HomeserverApiError>,
): Effect.Effect<B, HomeserverError.HomeserverApiError> =>
  Effect.flatMap(
    Effect.orDieWith(
      Schema.encode(schema)(value),
      (error) => new Error(`HomeserverApi: invalid request body (${ParseErrorSummary.summarizeParseError(error)})`),
    ),
    f,
  )
const Ignored = Schema.Unknown

const streamKeys = (settings: Settings, transport: Transport, version: Ids.BackupVersion, scope: Scope) => {
  const call = keysCall("GET", version, scope._tag === "Room" ? scope.roomId : undefined)
  const stalled = () =>
    new HomeserverError.TransportError({ reason: "Timeout", message: `${call.endpoint}: body stalled` })
  return Stream.unwrap(
    Effect.map(transport.open(call), (response) => {
      const bytes = response.stream.pipe(
        Stream.mapError((error) => transport.transportError(call.endpoint, error)),
        Stream.timeoutFail(stalled, settings.requestTimeout),
      )
      return parseRoomKeys(bytes, scope, call.endpoint)
    }),
  )
}

const accountDataCall = (settings: Settings, method: Call["method"], type: string, body?: unknown): Call => ({
  method,
  path: `/user/${segment(settings.userId)}/account_data/${segment(type)}`,
  endpoint: `${method} /user/{userId}/account_data/{type}`,
  roomKeys: false,
  ...(body === undefined ? {} : { body }),
})

const post = (path: string, body: unknown): Call => ({ method: "POST", path, endpoint: `POST ${path}`, roomKeys: false, body })

/** The service for one configured account over the given client. */
export const make = (config: FetchHomeserverApiConfig, client: HttpClient.HttpClient): HomeserverApi.Service => {
  const settings = resolve(config)
  // No `traceparent` header: Synapse's CORS allow-list (Authorization, Content-Type, …) does not name it, so
  // browsers would fail every preflight.
  const t = makeTransport(settings, HttpClient.withTracerPropagation(client, false))
  const unit = (call: Call) => Effect.asVoid(t.json(call, Ignored))
  const optional = <A>(effect: Effect.Effect<A, HomeserverError.HomeserverApiError>) =>
    effect.pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error) => error._tag === "BackupNotFound" || (error._tag === "HomeserverError" && error.reason === "NotFound"),
        () => Effect.succeed(Option.none()),
      ),
    )
  return {
    getBackupVersion: (version) => t.json(versionCall("GET", version), BackupInfo.KeyBackupInfo),
    createBackupVersion: (body) => createVersion(settings, t, body),
    updateBackupVersion: (version, body) =>
      withBody(BackupInfo.UpdateBackupVersionRequest, body, (wire) => updateVersion(t, version, wire)),
    deleteBackupVersion: (version) => unit(versionCall("DELETE", version)),
    // Sent once: core's upload loop owns these retries (it re-checks the version between them), so none stack here.
    putRoomKeys: (version, request) =>
      withBody(KeyBackupData.KeysBackupRequest, request, (body) =>
        t.once({ ...keysCall("PUT", version), body }, KeyBackupData.RoomKeysUpdateResponse),
      ),
    putRoomKeysForRoom: (version, roomId, backup) =>
      withBody(KeyBackupData.RoomKeyBackup, backup, (body) =>
        t.json({ ...keysCall("PUT", version, roomId), body }, KeyBackupData.RoomKeysUpdateResponse),
      ),
    putRoomKey: (version, roomId, sessionId, data) =>
      withBody(KeyBackupData.KeyBackupData, data, (body) =>
        t.json({ ...keysCall("PUT", version, roomId, sessionId), body }, KeyBackupData.RoomKeysUpdateResponse),
      ),
    getRoomKeys: (version) => t.json(keysCall("GET", version), KeyBackupData.RoomKeysResponse),
    getRoomKeysForRoom: (version, roomId) => t.json(keysCall("GET", version, roomId), KeyBackupData.RoomKeyBackup),
    getRoomKey: (version, roomId, sessionId) =>
      optional(t.json(keysCall("GET", version, roomId, sessionId), KeyBackupData.KeyBackupData)),
    deleteRoomKeys: (version, roomId, sessionId) =>
      t.json(keysCall("DELETE", version, roomId, sessionId), KeyBackupData.RoomKeysUpdateResponse),
    streamRoomKeys: (version, options) =>
      streamKeys(
        settings,
        t,
        version,
        options?.roomId === undefined ? { _tag: "All" } : { _tag: "Room", roomId: options.roomId },
      ),
    getAccountData: (type) => optional(t.json(accountDataCall(settings, "GET", type), Json.JsonObject)),
    putAccountData: (type, content) => unit(accountDataCall(settings, "PUT", type, content)),
    queryKeys: (request) =>
      withBody(DeviceKeysSchema.KeysQueryRequest, request, (body) =>
        t.json(post("/keys/query", body), DeviceKeysSchema.KeysQueryResponse),
      ),
    uploadSignatures: (request) =>
      withBody(DeviceKeysSchema.SignaturesUploadRequest, request, (body) =>
        t.json(post("/keys/signatures/upload", body), DeviceKeysSchema.SignaturesUploadResponse),
      ),
    whoami: () =>
      t.json(
        { method: "GET", path: "/account/whoami", endpoint: "GET /account/whoami", roomKeys: false },
        DeviceKeysSchema.WhoamiResponse,
      ),
  }
}

/** `HomeserverApi` over the `HttpClient` in context. */
export const layer = (
  config: FetchHomeserverApiConfig,
): Layer.Layer<HomeserverApi.HomeserverApi, never, HttpClient.HttpClient> =>
  Layer.effect(
    HomeserverApi.HomeserverApi,
    Effect.map(HttpClient.HttpClient, (client) => make(config, client)),
  )

/** `layer` with settings read from `Config` (e.g. environment variables). */
export const layerConfig = (
  config: Config.Config.Wrap<FetchHomeserverApiConfig>,
): Layer.Layer<HomeserverApi.HomeserverApi, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

/** `layer` plus the platform's fetch client: everything Node 18+ and browsers need. */
export const layerFetch = (config: FetchHomeserverApiConfig): Layer.Layer<HomeserverApi.HomeserverApi> =>
  Layer.provide(layer(config), FetchHttpClient.layer)
