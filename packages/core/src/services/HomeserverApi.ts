/**
 * The `HomeserverApi` port: the client-server endpoints key backup, 4S and backup trust use
 * (PROTOCOL.md §1, §6.1, §7.4), typed with the core schemas. Adapters (e.g. http-fetch) provide it.
 */
import { Context, Data, Effect, Layer, Stream } from "effect"
import type { Either, Option } from "effect"
import type { CreateBackupVersionRequest, KeyBackupInfo, UpdateBackupVersionRequest } from "../schema/BackupInfo.js"
import type {
  KeysQueryRequest,
  KeysQueryResponse,
  SignaturesUploadRequest,
  SignaturesUploadResponse,
  WhoamiResponse,
} from "../schema/DeviceKeys.js"
import type { BackupVersion, RoomId, SessionId } from "../schema/Ids.js"
import type { JsonObject } from "../schema/Json.js"
import type { KeyBackupData, KeysBackupRequest, RoomKeyBackup, RoomKeysUpdateResponse } from "../schema/KeyBackupData.js"
import type { HomeserverApiError } from "./HomeserverError.js"

/** One session of a streamed backup that did not decode; the rest of the stream goes on. */
export class MalformedEntry extends Data.TaggedError("MalformedEntry")<{
  readonly roomId: RoomId
  readonly sessionId: SessionId
  /** Schema issue paths, never values. */
  readonly summary: string
}> {}

/** One element of `streamRoomKeys`. */
export interface RoomKeyEntry {
  readonly roomId: RoomId
  readonly sessionId: SessionId
  readonly data: Either.Either<KeyBackupData, MalformedEntry>
}

/** Options of `streamRoomKeys`. */
export interface StreamRoomKeysOptions {
  /** Download one room (`GET /room_keys/keys/{roomId}`) instead of the whole backup. */
  readonly roomId?: RoomId
}

type Api<A> = Effect.Effect<A, HomeserverApiError>

/** The port. Every method fails only with `HomeserverApiError`; unknown errcodes never become defects. */
export class HomeserverApi extends Context.Tag("@matrix-backup/core/HomeserverApi")<
  HomeserverApi,
  {
    /** `GET /room_keys/version[/{version}]`: the latest live version when `version` is absent. 404 → `BackupNotFound`. */
    readonly getBackupVersion: (version?: BackupVersion) => Api<KeyBackupInfo>
    /** `POST /room_keys/version`. Never blindly retried (it is not idempotent). */
    readonly createBackupVersion: (body: CreateBackupVersionRequest) => Api<BackupVersion>
    /**
     * `PUT /room_keys/version/{version}`: replaces `auth_data`; `algorithm` must match. When the server refuses the
     * method (405, or 404/400 `M_UNRECOGNIZED`), sent once more on `POST`, where every Palpo release routes it.
     */
    readonly updateBackupVersion: (version: BackupVersion, body: UpdateBackupVersionRequest) => Api<void>
    /** `DELETE /room_keys/version/{version}`: deletes the version and all its keys. */
    readonly deleteBackupVersion: (version: BackupVersion) => Api<void>
    /** `PUT /room_keys/keys?version=V`. A non-current live version fails with `WrongBackupVersion`. */
    readonly putRoomKeys: (version: BackupVersion, request: KeysBackupRequest) => Api<RoomKeysUpdateResponse>
    /** `PUT /room_keys/keys/{roomId}?version=V`. */
    readonly putRoomKeysForRoom: (
      version: BackupVersion,
      roomId: RoomId,
      backup: RoomKeyBackup,
    ) => Api<RoomKeysUpdateResponse>
    /** `PUT /room_keys/keys/{roomId}/{sessionId}?version=V`. */
    readonly putRoomKey: (
      version: BackupVersion,
      roomId: RoomId,
      sessionId: SessionId,
      data: KeyBackupData,
    ) => Api<RoomKeysUpdateResponse>
    /** `GET /room_keys/keys?version=V`, decoded whole: for small backups; use `streamRoomKeys` otherwise. */
    readonly getRoomKeys: (version: BackupVersion) => Api<KeysBackupRequest>
    /** `GET /room_keys/keys/{roomId}?version=V` (`{sessions: {}}` when the room has none). */
    readonly getRoomKeysForRoom: (version: BackupVersion, roomId: RoomId) => Api<RoomKeyBackup>
    /** `GET /room_keys/keys/{roomId}/{sessionId}?version=V`. None on 404 (absent key, or unknown version). */
    readonly getRoomKey: (
      version: BackupVersion,
      roomId: RoomId,
      sessionId: SessionId,
    ) => Api<Option.Option<KeyBackupData>>
    /** `DELETE /room_keys/keys[/{roomId}[/{sessionId}]]?version=V`. */
    readonly deleteRoomKeys: (
      version: BackupVersion,
      roomId?: RoomId,
      sessionId?: SessionId,
    ) => Api<RoomKeysUpdateResponse>
    /**
     * The backup (or one room) as a stream of sessions, parsed incrementally: memory does not grow
     * with the backup. A malformed session is a `Left` entry; a broken connection fails the stream
     * after only complete entries were emitted.
     */
    readonly streamRoomKeys: (
      version: BackupVersion,
      options?: StreamRoomKeysOptions,
    ) => Stream.Stream<RoomKeyEntry, HomeserverApiError>
    /** `GET /user/{userId}/account_data/{type}`: None on 404. The content is returned raw. */
    readonly getAccountData: (type: string) => Api<Option.Option<JsonObject>>
    /** `PUT /user/{userId}/account_data/{type}`. "Deleting" is putting `{}`. */
    readonly putAccountData: (type: string, content: JsonObject) => Api<void>
    /** `POST /keys/query`. */
    readonly queryKeys: (request: KeysQueryRequest) => Api<KeysQueryResponse>
    /** `POST /keys/signatures/upload`. */
    readonly uploadSignatures: (request: SignaturesUploadRequest) => Api<SignaturesUploadResponse>
    /** `GET /account/whoami`. */
    readonly whoami: () => Api<WhoamiResponse>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<HomeserverApi>

const die = (method: string) => () => Effect.dieMessage(`HomeserverApi.${method} is not provided by this test layer`)

/** A service from a partial implementation; a missing method dies with its name. */
export const makeTest = (partial: Partial<Service>): Service => ({
  getBackupVersion: partial.getBackupVersion ?? die("getBackupVersion"),
  createBackupVersion: partial.createBackupVersion ?? die("createBackupVersion"),
  updateBackupVersion: partial.updateBackupVersion ?? die("updateBackupVersion"),
  deleteBackupVersion: partial.deleteBackupVersion ?? die("deleteBackupVersion"),
  putRoomKeys: partial.putRoomKeys ?? die("putRoomKeys"),
  putRoomKeysForRoom: partial.putRoomKeysForRoom ?? die("putRoomKeysForRoom"),
  putRoomKey: partial.putRoomKey ?? die("putRoomKey"),
  getRoomKeys: partial.getRoomKeys ?? die("getRoomKeys"),
  getRoomKeysForRoom: partial.getRoomKeysForRoom ?? die("getRoomKeysForRoom"),
  getRoomKey: partial.getRoomKey ?? die("getRoomKey"),
  deleteRoomKeys: partial.deleteRoomKeys ?? die("deleteRoomKeys"),
  streamRoomKeys:
    partial.streamRoomKeys ??
    (() => Stream.dieMessage("HomeserverApi.streamRoomKeys is not provided by this test layer")),
  getAccountData: partial.getAccountData ?? die("getAccountData"),
  putAccountData: partial.putAccountData ?? die("putAccountData"),
  queryKeys: partial.queryKeys ?? die("queryKeys"),
  uploadSignatures: partial.uploadSignatures ?? die("uploadSignatures"),
  whoami: partial.whoami ?? die("whoami"),
})

/** Test layer from a partial implementation (missing methods die with their name). */
export const layerTest = (partial: Partial<Service>): Layer.Layer<HomeserverApi> =>
  Layer.succeed(HomeserverApi, makeTest(partial))
