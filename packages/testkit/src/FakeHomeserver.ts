// The FakeHomeserver service: one core served either over real loopback HTTP (layerServer,
// startFakeHomeserver) or in process without sockets (layerInProcess, which also provides HttpClient).
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { FakeHomeserverAdmin } from "./Admin.js"
import { makeLocalAdmin } from "./Admin.js"
import type { Fault } from "./server/Faults.js"
import { Homeserver } from "./server/Homeserver.js"
import type { ProfileName, ServerProfile } from "./server/Profile.js"
import { makeFetch } from "./server/InProcess.js"
import { serve } from "./server/NodeTransport.js"
import { loadInto, makePersister } from "./server/Persistence.js"
import { adminRoutes } from "./server/routes/Admin.js"
import { matrixRoutes } from "./server/routes/index.js"

/** Options for every way of starting the fake. */
export interface FakeHomeserverOptions {
  /** Listen address (loopback only by default): "127.0.0.1". */
  readonly host?: string
  /** Port; 0 (the default) picks a free one. */
  readonly port?: number
  /** The server name in user ids: "localhost". */
  readonly serverName?: string
  /** Request body limit in bytes (413 M_TOO_LARGE above it): 50 MB. */
  readonly maxBodyBytes?: number
  /** Keep state in this JSON file across restarts (written atomically). */
  readonly dataFile?: string
  /** Faults in force from the start. */
  readonly faults?: ReadonlyArray<Fault>
  /**
   * Whose room_keys behaviour to imitate: "synapse" (default), "conduwuit", "tuwunel", "dendrite", "palpo", an older
   * release line ("palpo-legacy"), or a profile object (one of `PROFILES` with some knobs changed).
   */
  readonly profile?: ProfileName | ServerProfile
}

/** The base URL used by the in-process transport. */
export const IN_PROCESS_URL = "http://fake-homeserver.invalid"

interface Created {
  readonly core: Homeserver
  readonly admin: FakeHomeserverAdmin
  readonly close: () => Promise<void>
}

const create = (options: FakeHomeserverOptions): Created => {
  const core = new Homeserver(options)
  const admin = makeLocalAdmin(core)
  core.setRoutes(matrixRoutes, adminRoutes(admin))
  if (options.dataFile === undefined) return { core, admin, close: () => Promise.resolve() }
  loadInto(core, options.dataFile)
  const persister = makePersister(core, options.dataFile)
  core.onChange = persister.schedule
  return { core, admin, close: persister.flush }
}

const acquire = (options: FakeHomeserverOptions): Effect.Effect<Created, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => create(options)),
    (created) =>
      Effect.promise(() => {
        created.core.shutdown()
        return created.close()
      }),
  )

/** A stateful fake Matrix homeserver (Synapse semantics for key backup, 4S and device keys, or another server's room_keys profile). */
export class FakeHomeserver extends Context.Tag("@matrix-backup/testkit/FakeHomeserver")<
  FakeHomeserver,
  { readonly url: string; readonly admin: FakeHomeserverAdmin }
>() {
  /** Real HTTP on loopback; the server closes when the scope ends. */
  static readonly layerServer = (options: FakeHomeserverOptions = {}): Layer.Layer<FakeHomeserver> =>
    Layer.scoped(
      FakeHomeserver,
      Effect.gen(function* () {
        const { core, admin } = yield* acquire(options)
        const url = yield* serve(core, { host: options.host ?? "127.0.0.1", port: options.port ?? 0 })
        return { url, admin }
      }),
    )

  /** The same server in process, plus an `HttpClient` whose requests go straight to it. */
  static readonly layerInProcess = (options: FakeHomeserverOptions = {}): Layer.Layer<FakeHomeserver | HttpClient.HttpClient> =>
    Layer.scopedContext(
      Effect.gen(function* () {
        const { core, admin } = yield* acquire(options)
        const client = yield* HttpClient.HttpClient.pipe(
          Effect.provide(FetchHttpClient.layer),
          Effect.provideService(FetchHttpClient.Fetch, makeFetch(core, IN_PROCESS_URL)),
        )
        return Context.make(FakeHomeserver, { url: IN_PROCESS_URL, admin }).pipe(Context.add(HttpClient.HttpClient, client))
      }),
    )
}

/** A running fake homeserver for Promise-based callers. */
export interface RunningFakeHomeserver {
  readonly url: string
  readonly admin: FakeHomeserverAdmin
  /** Closes the listener (and open connections) and flushes the data file. */
  readonly stop: () => Promise<void>
}

/** Starts the fake on loopback HTTP (Promise API, for matrix-js-sdk tests and the CLI). */
export const startFakeHomeserver = async (options: FakeHomeserverOptions = {}): Promise<RunningFakeHomeserver> => {
  const scope = Effect.runSync(Scope.make())
  const started = Effect.gen(function* () {
    const { core, admin } = yield* acquire(options)
    const url = yield* serve(core, { host: options.host ?? "127.0.0.1", port: options.port ?? 0 })
    return { url, admin }
  })
  const { url, admin } = await Effect.runPromise(Scope.extend(started, scope)).catch(async (error: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  })
  let stopped: Promise<void> | undefined
  return { url, admin, stop: () => (stopped ??= Effect.runPromise(Scope.close(scope, Exit.void))) }
}

/** The fake in process for Promise-based callers: a `fetch` that reaches it without sockets. */
export const createInProcessHomeserver = (
  options: Omit<FakeHomeserverOptions, "host" | "port"> = {},
): { readonly url: string; readonly admin: FakeHomeserverAdmin; readonly fetch: typeof globalThis.fetch; readonly stop: () => Promise<void> } => {
  const { core, admin, close } = create(options)
  const stop = (): Promise<void> => {
    core.shutdown()
    return close()
  }
  return { url: IN_PROCESS_URL, admin, fetch: makeFetch(core, IN_PROCESS_URL), stop }
}
