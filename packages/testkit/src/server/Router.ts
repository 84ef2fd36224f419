// Route table: Synapse-style path patterns (`{param}` segments, URL-decoded) under the client
// prefixes Synapse registers (`r0`, `v3`, `unstable`), plus method dispatch with 404/405 answers.
import type { CoreRequest, CoreResponse, JsonObject } from "./Http.js"
import { MatrixError, isObject } from "./Http.js"
import type { ServerProfile } from "./Profile.js"
import type { Session, State, User } from "./State.js"

/** What a handler gets. */
export interface RouteContext {
  readonly state: State
  /** Which implementation's room_keys behaviour to imitate. */
  readonly profile: ServerProfile
  readonly request: CoreRequest
  readonly params: ReadonlyArray<string>
  readonly query: URLSearchParams
  /** The authenticated caller; throws 401 `M_MISSING_TOKEN`/`M_UNKNOWN_TOKEN`. */
  readonly auth: () => Session & { readonly user: User; readonly token: string }
  /** The body as a JSON object; throws 400 `M_NOT_JSON`/`M_BAD_JSON`. */
  readonly body: () => JsonObject
  /** Records a change at a new stream position and wakes `/sync` waiters. */
  readonly bump: () => number
  /** Waits for the next change or the timeout (ms): true; false once the client left or the server stops. */
  readonly waitForChange: (ms: number) => Promise<boolean>
}

/** A request handler. */
export type Handler = (ctx: RouteContext) => CoreResponse | Promise<CoreResponse>

/** One route: a method and a pattern of literal and `{param}` segments. */
export interface Route {
  readonly method: string
  readonly segments: ReadonlyArray<string | null>
  readonly handler: Handler
}

const CLIENT_PREFIXES = ["r0", "v3", "unstable"] as const

/** A route under `/_matrix/client/{r0,v3,unstable}` (Synapse's `client_patterns`). */
export const client = (method: string, path: string, handler: Handler): ReadonlyArray<Route> =>
  CLIENT_PREFIXES.map((prefix) => at(method, `/_matrix/client/${prefix}${path}`, handler))

/** A route at an absolute path. */
export const at = (method: string, path: string, handler: Handler): Route => ({
  method,
  segments: path.split("/").map((segment) => (segment.startsWith("{") ? null : segment)),
  handler,
})

/** Splits a raw path into segments, percent-decoding each; undefined if decoding fails. */
export const splitPath = (path: string): ReadonlyArray<string> | undefined => {
  try {
    return path.split("/").map((segment) => decodeURIComponent(segment))
  } catch {
    return undefined
  }
}

/** The result of matching: a handler with params, or 404/405. */
export type Match =
  | { readonly _tag: "Found"; readonly handler: Handler; readonly params: ReadonlyArray<string> }
  | { readonly _tag: "WrongMethod" }
  | { readonly _tag: "NotFound" }

/** Finds the route for a method and a split path. */
export const match = (
  routes: ReadonlyArray<Route>,
  method: string,
  segments: ReadonlyArray<string>,
): Match => {
  let pathMatched = false
  for (const route of routes) {
    const params = matchSegments(route.segments, segments)
    if (params === undefined) continue
    pathMatched = true
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { _tag: "Found", handler: route.handler, params }
    }
  }
  return pathMatched ? { _tag: "WrongMethod" } : { _tag: "NotFound" }
}

const matchSegments = (
  pattern: ReadonlyArray<string | null>,
  segments: ReadonlyArray<string>,
): ReadonlyArray<string> | undefined => {
  if (pattern.length !== segments.length) return undefined
  const params: Array<string> = []
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]
    const actual = segments[i] ?? ""
    if (expected === null) {
      if (actual.length === 0) return undefined
      params.push(actual)
    } else if (expected !== actual) {
      return undefined
    }
  }
  return params
}

const decoder = new TextDecoder("utf-8", { fatal: true })

/** Parses a request body as a JSON object the way Synapse does. */
export const parseJsonObject = (body: Uint8Array): JsonObject => {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(body))
  } catch {
    throw new MatrixError(400, "M_NOT_JSON", "Content not JSON.")
  }
  if (!isObject(value)) throw new MatrixError(400, "M_BAD_JSON", "Content must be a JSON object.")
  return value
}

/** The required string param at `index` (routes guarantee it exists). */
export const param = (ctx: RouteContext, index: number): string => ctx.params[index] ?? ""
