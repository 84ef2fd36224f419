// The fake homeserver core: one `(CoreRequest) => Promise<CoreResponse>` function that authenticates,
// parses, dispatches to the route table, applies faults and records the request log.
import type { CoreRequest, CoreResponse } from "./Http.js"
import { MatrixError, ResponseError, errorResponse, json } from "./Http.js"
import type { Fault } from "./Faults.js"
import { FaultSet, afterHandler, beforeHandler } from "./Faults.js"
import type { Route, RouteContext } from "./Router.js"
import { match, parseJsonObject, splitPath } from "./Router.js"
import type { State } from "./State.js"
import { makeState } from "./State.js"
import { authenticate } from "./Auth.js"
import type { ProfileName, ServerProfile } from "./Profile.js"
import { profileNamed } from "./Profile.js"

/** One line of the request log. */
export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly status: number
  /** Kinds of the faults that fired for this request. */
  readonly faults: ReadonlyArray<Fault["kind"]>
}

/** Options of the core. */
export interface HomeserverOptions {
  readonly serverName?: string
  readonly maxBodyBytes?: number
  readonly faults?: ReadonlyArray<Fault>
  /** Which implementation's room_keys behaviour to imitate (default "synapse"), by name or as a profile object. */
  readonly profile?: ProfileName | ServerProfile
}

/** Default request body limit: 50 MB. */
export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024

/** The server core. `routes` are passed in so admin routes can close over this instance. */
export class Homeserver {
  state: State
  readonly faults = new FaultSet()
  readonly log: Array<RequestLogEntry> = []
  readonly maxBodyBytes: number
  readonly profile: ServerProfile
  /** Called after anything may have changed (persistence hooks in here). */
  onChange: () => void = () => {}
  private readonly waiters = new Set<() => void>()
  private closed = false
  private routes: ReadonlyArray<Route> = []
  private adminRoutes: ReadonlyArray<Route> = []

  constructor(options: HomeserverOptions = {}) {
    this.state = makeState(options.serverName ?? "localhost")
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const profile = options.profile ?? "synapse"
    this.profile = typeof profile === "string" ? profileNamed(profile) : profile
    for (const fault of options.faults ?? []) this.faults.add(fault)
  }

  /** Installs the route tables. */
  setRoutes(routes: ReadonlyArray<Route>, adminRoutes: ReadonlyArray<Route>): void {
    this.routes = routes
    this.adminRoutes = adminRoutes
  }

  /** Advances the stream, wakes `/sync` long-polls and schedules persistence. */
  bump(): number {
    this.state.stream += 1
    for (const wake of [...this.waiters]) wake()
    this.onChange()
    return this.state.stream
  }

  /**
   * Resolves on the next change or after `ms` with true; with false when `signal` aborts or the
   * server shuts down (the caller should stop waiting).
   */
  waitForChange(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.closed || signal?.aborted === true) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        signal?.removeEventListener("abort", done)
        resolve(!this.closed && signal?.aborted !== true)
      }
      const timer = setTimeout(done, ms)
      this.waiters.add(done)
      signal?.addEventListener("abort", done)
    })
  }

  /** Ends every pending long-poll and held request; later long-polls return at once. */
  shutdown(): void {
    this.closed = true
    this.faults.abandonHolds()
    for (const wake of [...this.waiters]) wake()
  }

  /** Handles one request; never throws. */
  async handle(request: CoreRequest): Promise<CoreResponse> {
    const queryStart = request.url.indexOf("?")
    const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart)
    const query = queryStart === -1 ? "" : request.url.slice(queryStart + 1)
    if (path.startsWith("/_testkit/")) return this.dispatch(request, path, query, this.adminRoutes)
    const fired = this.faults.select(request.method, path)
    const holdAt = (fault: Fault) => this.faults.holdAt(fault, request.signal)
    const early = await beforeHandler(fired, holdAt)
    const response = early ?? (await this.dispatch(request, path, query, this.routes))
    this.log.push({ method: request.method, path, query, status: response.status, faults: fired.map((fault) => fault.kind) })
    if (request.method !== "GET" && request.method !== "HEAD" && early === undefined) this.onChange()
    return afterHandler(response, fired, holdAt)
  }

  private async dispatch(request: CoreRequest, path: string, query: string, routes: ReadonlyArray<Route>): Promise<CoreResponse> {
    try {
      if (request.method === "OPTIONS") return json(200, {})
      if (request.body.byteLength > this.maxBodyBytes) throw new MatrixError(413, "M_TOO_LARGE", "Request content is too large")
      const segments = splitPath(path)
      const found = segments === undefined ? { _tag: "NotFound" as const } : match(routes, request.method, segments)
      if (found._tag === "NotFound") throw new MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request")
      if (found._tag === "WrongMethod") throw new MatrixError(405, "M_UNRECOGNIZED", "Unrecognized request")
      return await found.handler(this.context(request, found.params, new URLSearchParams(query)))
    } catch (error) {
      if (error instanceof MatrixError) return errorResponse(error)
      if (error instanceof ResponseError) return error.response
      // A defect in a handler: answer like Synapse and keep serving. Only the name and path are logged.
      console.error(`fake-homeserver: handler defect on ${request.method} ${path}: ${error instanceof Error ? error.stack ?? error.name : "non-error thrown"}`)
      return json(500, { errcode: "M_UNKNOWN", error: "Internal server error" })
    }
  }

  private context(request: CoreRequest, params: ReadonlyArray<string>, query: URLSearchParams): RouteContext {
    let parsed: ReturnType<typeof parseJsonObject> | undefined
    return {
      state: this.state,
      profile: this.profile,
      request,
      params,
      query,
      auth: () => authenticate(this.state, request, query),
      body: () => (parsed ??= parseJsonObject(request.body)),
      bump: () => this.bump(),
      waitForChange: (ms) => this.waitForChange(ms, request.signal),
    }
  }
}
