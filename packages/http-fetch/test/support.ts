// Test harness: the testkit fake homeserver over real loopback HTTP, a registered user, and the
// fetch-based HomeserverApi configured with small retry delays. Also a tiny raw server for bodies
// the fake never sends (broken JSON, wrong shapes, stalled sockets), and a TestClock driver for waits.
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Ids } from "@matrix-backup/core"
import type { HomeserverApi } from "@matrix-backup/core"
import type { FakeHomeserverAdmin, FakeHomeserverOptions, TestUser } from "@matrix-backup/testkit"
import { FakeHomeserver, registerUser } from "@matrix-backup/testkit"
import { Duration, Effect, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { FetchHomeserverApiConfig } from "../src/Config.js"
import { make } from "../src/FetchHomeserverApi.js"

export const FAST_RETRY = { maxAttempts: 4, baseDelay: Duration.millis(10), maxDelay: Duration.millis(40) }

export interface Harness {
  readonly api: HomeserverApi.Service
  readonly admin: FakeHomeserverAdmin
  readonly user: TestUser
  readonly url: string
}

/** Config for `user` at `url` with fast retries. */
export const configFor = (url: string, user: { userId: string; accessToken: string }, extra: Partial<FetchHomeserverApiConfig> = {}): FetchHomeserverApiConfig => ({
  baseUrl: url,
  accessToken: Redacted.make(user.accessToken),
  userId: Ids.UserId.make(user.userId),
  retry: FAST_RETRY,
  ...extra,
})

/** Runs `f` against a fresh fake homeserver (one per test) and a new user. */
export const withHarness = <A, E>(
  f: (harness: Harness) => Effect.Effect<A, E>,
  options: {
    readonly server?: FakeHomeserverOptions
    readonly config?: Partial<FetchHomeserverApiConfig>
    /** Wraps the client the API uses (to observe responses). */
    readonly client?: (client: HttpClient.HttpClient) => HttpClient.HttpClient
  } = {},
): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const { url, admin } = yield* FakeHomeserver
    const user = yield* Effect.promise(() => registerUser(url))
    const client = yield* HttpClient.HttpClient
    const api = make(configFor(url, user, options.config), options.client?.(client) ?? client)
    return yield* f({ api, admin, user, url })
  }).pipe(Effect.provide(FakeHomeserver.layerServer(options.server)), Effect.provide(FetchHttpClient.layer))

/** The fetch client alone, for tests with a raw server. */
export const withClient = <A, E>(f: (client: HttpClient.HttpClient) => Effect.Effect<A, E>) =>
  Effect.flatMap(HttpClient.HttpClient, f).pipe(Effect.provide(FetchHttpClient.layer))

/** A raw loopback server; `closedEarly` counts sockets the client closed before the response finished. */
export interface RawServer {
  readonly url: string
  readonly requests: Array<{ method: string; url: string }>
  readonly closedEarly: () => number
  /** Waits until the client has closed `count` responses early. */
  readonly awaitClosedEarly: (count: number) => Effect.Effect<void>
}

export const rawServer = (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<RawServer & { close: () => void }>((resume) => {
      const requests: Array<{ method: string; url: string }> = []
      let closedEarly = 0
      let waiters: Array<{ readonly count: number; readonly wake: () => void }> = []
      const server = createServer((req, res) => {
        requests.push({ method: req.method ?? "", url: req.url ?? "" })
        res.on("close", () => {
          if (res.writableFinished) return
          closedEarly += 1
          for (const waiter of waiters.filter((w) => w.count <= closedEarly)) waiter.wake()
          waiters = waiters.filter((w) => w.count > closedEarly)
        })
        handler(req, res)
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            requests,
            closedEarly: () => closedEarly,
            awaitClosedEarly: (count) =>
              Effect.async<void>((wake) => {
                if (closedEarly >= count) return wake(Effect.void)
                waiters.push({ count, wake: () => wake(Effect.void) })
              }),
            close: () => {
              server.closeAllConnections()
              server.close()
            },
          }),
        )
      })
    }),
    (server) => Effect.sync(server.close),
  )

/** Replies with a fixed status and raw body text. */
export const reply = (status: number, body: string, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", ...headers })
    res.end(body)
  }

const b64 = (bytes: number) => randomBytes(bytes).toString("base64").replace(/=+$/, "")

/** A realistic-size curve25519 KeyBackupData (ciphertext of a ~450-byte plaintext). */
export const keyBackupData = (index = 0) => ({
  first_message_index: index,
  forwarded_count: 0,
  is_verified: false,
  session_data: { ephemeral: b64(32), ciphertext: b64(464), mac: b64(8) },
})

/** `count` stored keys spread over `rooms` rooms; ids contain `/` and `+` like real base64 ids. */
export const makeKeys = (count: number, rooms = 10) =>
  Array.from({ length: count }, (_, i) => ({
    roomId: `!room${i % rooms}:localhost`,
    sessionId: `${b64(32)}/+${i}`,
    data: keyBackupData(i % 7),
  }))

/** A backup version for `user` made directly in the fake's state. */
export const newVersion = (admin: FakeHomeserverAdmin, userId: string) =>
  Effect.promise(() => admin.resetBackupAsOtherDevice(userId)).pipe(Effect.map((v) => Ids.BackupVersion.make(v)))

export { drivenByTestClock as driven, ioTurn } from "@matrix-backup/testkit"

