// One command's Secret Storage reads go to the homeserver once, over real HTTP to the fake homeserver: the backup
// preference is read every time, a write forgets what was read, and a read answered before a write is not kept.
import { HomeserverApi, Ids } from "@matrix-backup/core"
import { registerUser, type TestUser } from "@matrix-backup/testkit"
import { Effect, Fiber, Option, Redacted } from "effect"
import { beforeEach, describe, expect, it } from "vitest"
import * as AccountDataMemo from "../src/AccountDataMemo.js"
import { apiLayer } from "../src/Connection.js"
import { sharedFakeHomeserver } from "./support.js"

const DEFAULT_KEY = "m.secret_storage.default_key"
const KEY = "m.secret_storage.key.abc"
const SECRET = "m.megolm_backup.v1"
const PREFERENCE = "m.key_backup"

describe("AccountDataMemo", () => {
  const server = sharedFakeHomeserver()
  let user: TestUser
  beforeEach(async () => {
    user = await registerUser(server().url)
    await server().admin.clearFaults()
    await server().admin.clearRequestLog()
  })

  /** Runs `f` with a memoized API of a fresh user, as a command does. */
  const withMemo = <A, E>(f: (api: HomeserverApi.Service) => Effect.Effect<A, E>) =>
    Effect.runPromise(
      Effect.flatMap(HomeserverApi.HomeserverApi, (api) => f(AccountDataMemo.memoize(api))).pipe(
        Effect.provide(apiLayer(server().url, Redacted.make(user.accessToken), Ids.UserId.make(user.userId))),
      ),
    )

  /** GETs of account-data `type` the fake homeserver answered. */
  const reads = async (type: string) => (await server().admin.requestLog()).filter((e) => e.method === "GET" && e.path.endsWith(`/account_data/${type}`)).length

  it("reads each Secret Storage entry once, and the backup preference every time", async () => {
    await withMemo((api) =>
      Effect.gen(function* () {
        yield* api.putAccountData(DEFAULT_KEY, { key: "abc" })
        yield* api.putAccountData(PREFERENCE, { enabled: true })
        for (let i = 0; i < 3; i++) {
          expect(yield* api.getAccountData(DEFAULT_KEY)).toEqual(Option.some({ key: "abc" }))
          expect(yield* api.getAccountData(KEY)).toEqual(Option.none())
          expect(yield* api.getAccountData(SECRET)).toEqual(Option.none())
          expect(yield* api.getAccountData(PREFERENCE)).toEqual(Option.some({ enabled: true }))
        }
      }),
    )
    expect([await reads(DEFAULT_KEY), await reads(KEY), await reads(SECRET), await reads(PREFERENCE)]).toEqual([1, 1, 1, 3])
  })

  it("a write forgets what was read; a read answered with the content from before a write is not kept", async () => {
    await withMemo((api) =>
      Effect.gen(function* () {
        expect(yield* api.getAccountData(DEFAULT_KEY)).toEqual(Option.none())
        yield* api.putAccountData(DEFAULT_KEY, { key: "abc" })
        expect(yield* api.getAccountData(DEFAULT_KEY)).toEqual(Option.some({ key: "abc" }))
        // The next read's answer (the old content) is held mid-body while the entry changes.
        const hold = yield* Effect.promise(() => server().admin.injectFault({ kind: "hold", afterBytes: 1, times: 1, match: { method: "GET", path: `/account_data/${SECRET}` } }))
        const before = yield* Effect.fork(api.getAccountData(SECRET))
        yield* Effect.promise(() => server().admin.awaitHeld(hold))
        yield* api.putAccountData(SECRET, { encrypted: {} })
        yield* Effect.promise(() => server().admin.releaseHeld(hold))
        expect(yield* Fiber.join(before)).toEqual(Option.none())
        expect(yield* api.getAccountData(SECRET)).toEqual(Option.some({ encrypted: {} }))
        expect(yield* api.getAccountData(SECRET)).toEqual(Option.some({ encrypted: {} }))
      }),
    )
    expect([await reads(DEFAULT_KEY), await reads(SECRET)]).toEqual([2, 2])
  })
})
