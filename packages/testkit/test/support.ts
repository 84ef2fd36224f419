// Test helpers: a fresh loopback fake per test and a tiny JSON client on global fetch.
import { afterEach, beforeEach } from "@effect/vitest"
import type { RunningFakeHomeserver, TestUser } from "../src/index.js"
import { registerUser, startFakeHomeserver } from "../src/index.js"
import type { FakeHomeserverOptions } from "../src/index.js"

/** Parsed JSON, indexable at any depth (tests compare leaves with expect). */
export interface Json {
  readonly [key: string]: Json
}

/** A JSON response. */
export interface Reply {
  readonly status: number
  readonly body: Json
  readonly headers: Headers
}

/** Calls `path` on `url` with an optional token and JSON body. */
export const call = async (url: string, method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}): Promise<Reply> => {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined) headers["content-type"] = "application/json"
  const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined, headers: response.headers }
}

/** A user-bound client. */
export const clientFor = (url: string, user: TestUser) => (method: string, path: string, body?: unknown) =>
  call(url, method, path, { token: user.accessToken, ...(body === undefined ? {} : { body }) })

/** Starts a fresh fake before each test of the enclosing block and stops it after. */
export const useServer = (options: FakeHomeserverOptions = {}): { readonly current: RunningFakeHomeserver } => {
  const holder: { current: RunningFakeHomeserver | undefined } = { current: undefined }
  beforeEach(async () => {
    holder.current = await startFakeHomeserver(options)
  })
  afterEach(async () => {
    await holder.current?.stop()
    holder.current = undefined
  })
  return {
    get current(): RunningFakeHomeserver {
      if (holder.current === undefined) throw new Error("server not started")
      return holder.current
    },
  }
}

/** Registers a user on the current server. */
export const newUser = (server: { readonly current: RunningFakeHomeserver }, username?: string): Promise<TestUser> =>
  registerUser(server.current.url, username === undefined ? {} : { username })

/** v3 client path. */
export const v3 = (path: string): string => `/_matrix/client/v3${path}`
