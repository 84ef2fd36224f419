import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { withHarness } from "./support.js"

const ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
const body = () => ({
  algorithm: ALGORITHM,
  auth_data: { public_key: randomBytes(32).toString("base64").replace(/=+$/, ""), signatures: { "@a:b": { "ed25519:D": "s" } } },
})
const POST_VERSION = { method: "POST", path: /\/room_keys\/version$/ }

describe("createBackupVersion over HTTP", () => {
  it.live("adopts the version an unanswered POST created instead of creating a second one", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        yield* Effect.promise(() => admin.injectFault({ kind: "resetMidBody", afterBytes: 3, times: 1, match: POST_VERSION }))
        const request = body()
        const version = yield* api.createBackupVersion(request)
        const rows = yield* Effect.promise(() => admin.backupVersions(user.userId))
        expect(rows.map((row) => row.version)).toEqual([version])
        expect(rows[0]?.auth_data).toEqual(request.auth_data)
        const log = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.endsWith("/room_keys/version"))
        expect(log.map((e) => e.method)).toEqual(["POST", "GET"])
      }),
    ),
  )

  it.live("POSTs again after a 5xx when the latest version is not ours", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const other = yield* Effect.promise(() => admin.resetBackupAsOtherDevice(user.userId))
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 502, times: 1, match: POST_VERSION }))
        const request = body()
        const version = yield* api.createBackupVersion(request)
        const rows = yield* Effect.promise(() => admin.backupVersions(user.userId))
        expect(rows.map((row) => row.version)).toEqual([other, version])
        expect(rows[1]?.auth_data).toEqual(request.auth_data)
        const log = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.endsWith("/room_keys/version"))
        expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(["POST 502", "GET 200", "POST 200"])
      }),
    ),
  )

  it.live("POSTs again after a 5xx when there is no backup, and retries a 429", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", nth: 1, match: POST_VERSION }))
        yield* Effect.promise(() => admin.injectFault({ kind: "rateLimit", retryAfterMs: 5, nth: 2, match: POST_VERSION }))
        yield* api.createBackupVersion(body())
        expect((yield* Effect.promise(() => admin.backupVersions(user.userId))).length).toBe(1)
        const log = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.path.endsWith("/room_keys/version"))
        expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(["POST 500", "GET 404", "POST 429", "POST 200"])
      }),
    ),
  )

  it.live("gives up after the attempt budget without creating anything", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", match: POST_VERSION }))
        const error = yield* Effect.flip(api.createBackupVersion(body()))
        expect(error).toMatchObject({ _tag: "HomeserverError", reason: "ServerError" })
        expect(yield* Effect.promise(() => admin.backupVersions(user.userId))).toEqual([])
        const posts = (yield* Effect.promise(() => admin.requestLog())).filter((e) => e.method === "POST" && e.path.endsWith("/version"))
        expect(posts.length).toBe(4)
      }),
    ),
  )
})
