/**
 * A static file server on loopback for browser tests: the built page, its workers and wasm, served the way any web
 * server would (a real origin, so Web Workers, IndexedDB and fetch behave as in production).
 */
import { readFile } from "node:fs/promises"
import { createServer } from "node:http"
import { extname, join, normalize } from "node:path"

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".wasm": "application/wasm",
}

/** A running static server. */
export interface StaticServer {
  /** The origin, e.g. `http://127.0.0.1:40123`. */
  readonly url: string
  /** Closes the listening socket. */
  readonly stop: () => Promise<void>
}

/** Serves `dir` on 127.0.0.1 (a free port); `/` is `index.html`; paths never leave `dir`. */
export const serveStatic = (dir: string): Promise<StaticServer> =>
  new Promise((resolve) => {
    const server = createServer((request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "")
      const file = join(dir, path === "/" ? "index.html" : path)
      readFile(file).then(
        (body) => {
          response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" })
          response.end(body)
        },
        () => {
          response.writeHead(404)
          response.end()
        },
      )
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({ url: `http://127.0.0.1:${port}`, stop: () => new Promise((done) => server.close(() => done())) })
    })
  })
