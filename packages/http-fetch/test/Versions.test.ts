import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@matrix-backup/core"
import { Effect } from "effect"
import { withHarness } from "./support.js"

const ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
const PUBLIC_KEY = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo"

describe("backup versions over HTTP", () => {
  it.live("reports no backup as BackupNotFound", () =>
    withHarness(({ api }) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(api.getBackupVersion())
        expect(error).toMatchObject({ _tag: "BackupNotFound" })
        const missing = yield* Effect.flip(api.getBackupVersion(Ids.BackupVersion.make("99")))
        expect(missing).toMatchObject({ _tag: "BackupNotFound", version: "99" })
      }),
    ),
  )

  it.live("creates, reads, updates and deletes a version", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        const auth_data = { public_key: PUBLIC_KEY, signatures: { [user.userId]: { "ed25519:DEV": "sig" } } }
        const version = yield* api.createBackupVersion({ algorithm: ALGORITHM, auth_data })
        const latest = yield* api.getBackupVersion()
        expect(latest).toMatchObject({ algorithm: ALGORITHM, version, count: 0 })
        expect(latest.auth_data._tag).toBe("Curve25519")
        expect(latest.auth_data.raw).toEqual(auth_data)
        expect((yield* api.getBackupVersion(version)).version).toBe(version)

        const updated = { ...auth_data, "org.example.extra": true }
        yield* api.updateBackupVersion(version, { algorithm: ALGORITHM, auth_data: updated, version })
        expect((yield* api.getBackupVersion(version)).auth_data.raw).toEqual(updated)

        yield* api.deleteBackupVersion(version)
        expect((yield* Effect.flip(api.getBackupVersion()))._tag).toBe("BackupNotFound")
        const rows = yield* Effect.promise(() => admin.backupVersions(user.userId))
        expect(rows.map((row) => row.deleted)).toEqual([true])
      }),
    ),
  )

  it.live("maps a changed algorithm on update to HomeserverError BadRequest, without retrying", () =>
    withHarness(({ api, admin }) =>
      Effect.gen(function* () {
        const version = yield* api.createBackupVersion({ algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY } })
        yield* Effect.promise(() => admin.clearRequestLog())
        const error = yield* Effect.flip(api.updateBackupVersion(version, { algorithm: "org.example", auth_data: {} }))
        expect(error).toMatchObject({ _tag: "HomeserverError", reason: "BadRequest", status: 400, errcode: "M_INVALID_PARAM" })
        expect((yield* Effect.promise(() => admin.requestLog())).length).toBe(1)
      }),
    ),
  )

  it.live("updates with one PUT where the server takes it (Synapse): no POST", () =>
    withHarness(({ api, admin }) =>
      Effect.gen(function* () {
        const version = yield* api.createBackupVersion({ algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY } })
        yield* Effect.promise(() => admin.clearRequestLog())
        yield* api.updateBackupVersion(version, { algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY, extra: 1 }, version })
        expect((yield* Effect.promise(() => admin.requestLog())).map((e) => `${e.method} ${e.status}`)).toEqual(["PUT 200"])
      }),
    ),
  )

  it.live("sends the update again on POST where PUT is refused with 405 M_UNRECOGNIZED (Palpo), once", () =>
    withHarness(
      ({ api, admin }) =>
        Effect.gen(function* () {
          const version = yield* api.createBackupVersion({ algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY } })
          yield* Effect.promise(() => admin.clearRequestLog())
          const updated = { public_key: PUBLIC_KEY, "org.example.extra": true }
          yield* api.updateBackupVersion(version, { algorithm: ALGORITHM, auth_data: updated, version })
          const log = yield* Effect.promise(() => admin.requestLog())
          expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
            `PUT /_matrix/client/v3/room_keys/version/${version} 405`,
            `POST /_matrix/client/v3/room_keys/version/${version} 200`,
          ])
          expect(yield* api.getBackupVersion()).toMatchObject({ version, auth_data: { raw: updated } })
        }),
      { server: { profile: "palpo" } },
    ),
  )

  it.live("fails with one HomeserverError Unsupported when the server refuses the update on PUT and on POST", () =>
    withHarness(({ api, admin }) =>
      Effect.gen(function* () {
        const version = yield* api.createBackupVersion({ algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY } })
        yield* Effect.promise(() => admin.injectFault({ kind: "serverError", status: 405, match: { method: "PUT", path: "/room_keys/version/" } }))
        yield* Effect.promise(() => admin.clearRequestLog())
        const error = yield* Effect.flip(api.updateBackupVersion(version, { algorithm: ALGORITHM, auth_data: { public_key: PUBLIC_KEY }, version }))
        expect(error).toMatchObject({
          _tag: "HomeserverError",
          reason: "Unsupported",
          status: 405,
          errcode: "M_UNRECOGNIZED",
          message: "The server takes no backup version update: PUT /room_keys/version/{version} answered 405, POST 405",
        })
        expect((yield* Effect.promise(() => admin.requestLog())).map((e) => `${e.method} ${e.status}`)).toEqual(["PUT 405", "POST 405"])
      }),
    ),
  )

  it.live("decodes a version with an unknown algorithm to Unknown", () =>
    withHarness(({ api, admin, user }) =>
      Effect.gen(function* () {
        yield* Effect.promise(() => admin.resetBackupAsOtherDevice(user.userId, "org.example.future", { x: [1] }))
        const info = yield* api.getBackupVersion()
        expect(info.auth_data).toEqual({ _tag: "Unknown", reason: "UnknownAlgorithm", raw: { x: [1] } })
      }),
    ),
  )
})
