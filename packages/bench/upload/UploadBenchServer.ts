// The upload benchmark's fake homeserver, in a process of its own so the RSS the benchmark prints is the client's
// alone. Prints `{"url": ...}` as its first stdout line and serves until it is signalled.
import { startFakeHomeserver } from "@matrix-backup/testkit"

const server = await startFakeHomeserver({ maxBodyBytes: 50 * 1024 * 1024 })
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)
const stop = (): void => void server.stop().then(() => process.exit(0))
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
