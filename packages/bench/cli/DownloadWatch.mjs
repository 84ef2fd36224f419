/* global performance, URL */
// A loopback TCP relay in front of the fake homeserver that notes when the first backup download request
// (`GET .../room_keys/keys`) arrives, on this process's clock: the start-up of a command is the time from its spawn to
// that moment. Bytes are relayed untouched; used only for start-up runs, so the big restores never pay for the relay.
import { connect, createServer } from "node:net"

const DOWNLOAD = /^GET [^ ]*\/room_keys\/keys[?/ ]/

/** Starts a relay to `target` (an http://host:port URL); `firstDownload()` is the arrival time, or undefined. */
export const watchDownloads = async (target) => {
  const { hostname, port } = new URL(target)
  let first
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname)
    client.on("data", (chunk) => {
      if (first === undefined && DOWNLOAD.test(chunk.toString("latin1", 0, 200))) first = performance.now()
    })
    client.pipe(upstream).on("error", () => client.destroy())
    upstream.pipe(client).on("error", () => upstream.destroy())
    client.on("error", () => upstream.destroy())
    upstream.on("error", () => client.destroy())
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    reset: () => (first = undefined),
    firstDownload: () => first,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}
