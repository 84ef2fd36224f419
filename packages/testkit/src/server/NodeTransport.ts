// Serves the core over real loopback HTTP with @effect/platform-node's NodeHttpServer. A reset fault
// destroys the socket mid-body; the request body is read here with the size limit applied.
import { createServer } from "node:http"
import type { IncomingMessage } from "node:http"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Stream } from "effect"
import type { Scope } from "effect"
import type { CoreResponse } from "./Http.js"
import { ConnectionReset } from "./Http.js"
import type { Homeserver } from "./Homeserver.js"

/** Reads at most `limit + 1` bytes (draining the rest), so the core can answer 413. */
const readBody = (incoming: IncomingMessage, limit: number): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    incoming.on("data", (chunk: Buffer) => {
      if (size <= limit) chunks.push(chunk)
      size += chunk.byteLength
    })
    incoming.on("end", () => {
      const body = Buffer.concat(chunks)
      resolve(size > limit ? body.subarray(0, limit + 1) : body)
    })
    incoming.on("error", reject)
  })

const headersOf = (incoming: IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

const toServerResponse = (response: CoreResponse, destroy: () => void): HttpServerResponse.HttpServerResponse => {
  const options = { status: response.status, headers: response.headers }
  if (response.body instanceof Uint8Array) return HttpServerResponse.uint8Array(response.body, options)
  const body = Stream.fromAsyncIterable(response.body, (error) => error).pipe(
    Stream.catchAll((error) =>
      error instanceof ConnectionReset
        ? Stream.fromEffect(Effect.zipRight(Effect.sync(destroy), Effect.never))
        : Stream.die(error),
    ),
  )
  return HttpServerResponse.stream(body, options)
}

/** The HttpApp that hands each request to the core. */
export const httpApp = (core: Homeserver) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    const outgoing = NodeHttpServerRequest.toServerResponse(request)
    // The connection closing (client gone, or the server shutting down) ends long-polls.
    const gone = new AbortController()
    outgoing.once("close", () => gone.abort())
    const response = yield* Effect.promise((signal) => {
      signal.addEventListener("abort", () => gone.abort())
      return readBody(incoming, core.maxBodyBytes).then((body) =>
        core.handle({ method: request.method, url: incoming.url ?? "/", headers: headersOf(incoming), body, signal: gone.signal }),
      )
    })
    // Let the bytes already written reach the peer, then close the connection under it.
    const destroy = (): void => {
      const socket = outgoing.socket
      socket?.write(new Uint8Array(0), () => socket.destroy())
    }
    return toServerResponse(response, destroy)
  })

/** Listens on host:port (port 0 picks a free one) until the scope closes; returns the base URL. */
export const serve = (core: Homeserver, options: { readonly host: string; readonly port: number }): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function* () {
    // No idle timeout on keep-alive sockets: test code often blocks the event loop (seeding), and a
    // server closing an idle socket just as the client reuses it shows up as a spurious ECONNRESET.
    // Stopping closes every connection anyway.
    const server = createServer({ keepAliveTimeout: 0 })
    const http = yield* NodeHttpServer.make(() => server, { host: options.host, port: options.port }).pipe(Effect.orDie)
    // Long-polls and keep-alive sockets would hold `close()` open; end them first (finalizers run in reverse).
    yield* Effect.addFinalizer(() => Effect.sync(() => server.closeAllConnections()))
    yield* http.serve(httpApp(core))
    const address = http.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("fake homeserver: not a TCP address")
    const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname
    return `http://${host}:${address.port}`
  })

export { HttpServer }
