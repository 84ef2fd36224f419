// An in-process `fetch` that calls the core without sockets: the same handler, faults and log as
// the loopback server. A reset fault makes the body stream fail like a dropped connection.
import type { CoreResponse } from "./Http.js"
import { ConnectionReset } from "./Http.js"
import type { Homeserver } from "./Homeserver.js"

const toWebBody = (body: CoreResponse["body"]): BodyInit => {
  if (body instanceof Uint8Array) return body.slice()
  const iterator = body[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      } catch (error) {
        controller.error(error instanceof ConnectionReset ? new TypeError("terminated", { cause: error }) : error)
      }
    },
    async cancel() {
      await iterator.return?.()
    },
  })
}

/** A `fetch` bound to the core at `baseUrl` (requests to other origins fail like an unreachable host). */
export const makeFetch = (core: Homeserver, baseUrl: string): typeof globalThis.fetch =>
  async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    if (url.origin !== new URL(baseUrl).origin) throw new TypeError(`fetch failed: ${url.origin} is not the in-process homeserver`)
    const body = new Uint8Array(await request.arrayBuffer())
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => (headers[name] = value))
    const response = await core.handle({ method: request.method, url: `${url.pathname}${url.search}`, headers, body, signal: request.signal })
    const nullBody = request.method === "HEAD" || response.status === 204 || response.status === 304
    return new Response(nullBody ? null : toWebBody(response.body), { status: response.status, headers: response.headers })
  }
