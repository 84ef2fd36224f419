import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import { Cause, Effect, Exit, Option } from "effect"
import { keyBackupData, newVersion, withHarness } from "./support.js"

const ROOM = Ids.RoomId.make("!a/b+c:d!e:localhost")
const SESSION = Ids.SessionId.make("ipdI6Zs/7DzFTEhiA2iGaMDfHkIYCleqXT6L+5e1/co")

describe("room keys over HTTP", () => {
  it.live("round-trips keys through all three PUT and GET forms, with / + : ! in ids", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        const one = keyBackupData(3)
        const put1 = yield* api.putRoomKey(version, ROOM, SESSION, one)
        expect(put1.count).toBe(1)
        const other = Ids.SessionId.make("s+2/x")
        yield* api.putRoomKeysForRoom(version, ROOM, { sessions: { [other]: keyBackupData() } })
        const room2 = Ids.RoomId.make("!plain:localhost")
        const put3 = yield* api.putRoomKeys(version, { rooms: { [room2]: { sessions: { [SESSION]: keyBackupData() } } } })
        expect(put3).toMatchObject({ count: 3 })

        expect(Option.getOrThrow(yield* api.getRoomKey(version, ROOM, SESSION))).toEqual(one)
        expect(Object.keys((yield* api.getRoomKeysForRoom(version, ROOM)).sessions).sort()).toEqual([SESSION, other].sort())
        const all = yield* api.getRoomKeys(version)
        expect(Object.keys(all.rooms).sort()).toEqual([ROOM, room2].sort())

        const paths = (yield* Effect.promise(() => admin.requestLog())).map((entry) => entry.path)
        expect(paths).toContain(`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(ROOM)}/${encodeURIComponent(SESSION)}`)
        expect(paths.some((path) => path.includes("%2F") && path.includes("%2B") && path.includes("!a"))).toBe(true)
        const stored = yield* Effect.promise(() => admin.roomKeys(user.userId, version))
        expect(stored.find((key) => key.sessionId === SESSION && key.roomId === ROOM)?.data).toEqual(one)
      }),
    ),
  )

  it.live("returns None for an absent key and an empty room as {sessions: {}}", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        expect(Option.isNone(yield* api.getRoomKey(version, ROOM, SESSION))).toBe(true)
        expect(yield* api.getRoomKeysForRoom(version, ROOM)).toEqual({ sessions: {} })
        expect(yield* api.getRoomKeys(version)).toEqual({ rooms: {} })
      }),
    ),
  )

  it.live("fails writes to an older live version with WrongBackupVersion naming the current one", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const old = yield* newVersion(admin, user.userId)
        const current = yield* newVersion(admin, user.userId)
        const error = yield* Effect.flip(api.putRoomKey(old, ROOM, SESSION, keyBackupData()))
        expect(error).toMatchObject({ _tag: "WrongBackupVersion", currentVersion: current })
        const gone = yield* Effect.flip(api.putRoomKeys(Ids.BackupVersion.make("77"), { rooms: {} }))
        expect(gone).toMatchObject({ _tag: "BackupNotFound", version: "77" })
      }),
    ),
  )

  it.live("deletes keys per session, room and version and reports etag/count", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        yield* api.putRoomKey(version, ROOM, SESSION, keyBackupData())
        yield* api.putRoomKey(version, ROOM, Ids.SessionId.make("second"), keyBackupData())
        const afterOne = yield* api.deleteRoomKeys(version, ROOM, SESSION)
        expect(afterOne.count).toBe(1)
        const afterAll = yield* api.deleteRoomKeys(version)
        expect(afterAll.count).toBe(0)
        expect(afterAll.etag).not.toBe(afterOne.etag)
      }),
    ),
  )

  it.live("reads and writes account data, with 404 as None", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        expect(Option.isNone(yield* api.getAccountData("m.secret_storage.default_key"))).toBe(true)
        yield* api.putAccountData("m.secret_storage.key.a/b", { algorithm: "m.secret_storage.v1.aes-hmac-sha2" })
        const read = yield* api.getAccountData("m.secret_storage.key.a/b")
        expect(Option.getOrThrow(read)).toEqual({ algorithm: "m.secret_storage.v1.aes-hmac-sha2" })
        expect(yield* Effect.promise(() => admin.accountData(user.userId, "m.secret_storage.key.a/b"))).toEqual({
          algorithm: "m.secret_storage.v1.aes-hmac-sha2",
        })
      }),
    ),
  )

  it.live("answers whoami and keys/query for the own user", () =>
    withHarness(({ api, user, url }) =>
      Effect.gen(function* () {
        const me = yield* api.whoami()
        expect(me).toMatchObject({ user_id: user.userId, device_id: user.deviceId })
        const userId = Ids.UserIdKey.make(user.userId)
        const device = {
          user_id: user.userId,
          device_id: user.deviceId,
          algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
          keys: { [`ed25519:${user.deviceId}`]: "lEuiRJBit0IG6nUf5pUzWTUEsRVVe/HJkoKuEww9ULI" },
          "org.example.unknown": 1,
        }
        yield* Effect.promise(() =>
          fetch(`${url}/_matrix/client/v3/keys/upload`, {
            method: "POST",
            headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
            body: JSON.stringify({ device_keys: device }),
          }),
        )
        const keys = yield* api.queryKeys({ device_keys: { [userId]: [] } })
        expect(keys.device_keys?.[userId]?.[Ids.DeviceIdKey.make(user.deviceId)]).toMatchObject(device)
        const upload = yield* api.uploadSignatures({})
        expect(upload.failures ?? {}).toEqual({})
      }),
    ),
  )

  it.live("dies (a caller bug) on a body its schema rejects, naming the path and sending nothing", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const version = yield* newVersion(admin, user.userId)
        yield* Effect.promise(() => admin.clearRequestLog())
        const exit = yield* Effect.exit(api.putRoomKey(version, ROOM, SESSION, { ...keyBackupData(), forwarded_count: -9_876_543 }))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        expect(text).toContain("forwarded_count")
        // A value no path in the stack trace can contain (it exceeds Linux's largest process id, so no
        // `/tmp/name-<pid>` directory has it), so the check is on the value alone.
        expect(text).not.toContain("9876543")
        expect(yield* Effect.promise(() => admin.requestLog())).toEqual([])
      }),
    ),
  )
})
