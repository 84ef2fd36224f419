#!/usr/bin/env node
// `fake-homeserver` command: serves the fake on loopback until SIGINT/SIGTERM. The first stdout line is
// `{"url":"http://127.0.0.1:PORT"}` so a parent process can read where it listens.
import { parseArgs } from "node:util"
import { startFakeHomeserver } from "./FakeHomeserver.js"
import { LEGACY_PROFILES, SERVER_PROFILES, isProfileName } from "./server/Profile.js"

const USAGE =
  "usage: fake-homeserver [--port 0] [--host 127.0.0.1] [--server-name localhost] [--data FILE] [--max-body-mb 50] " +
  `[--profile ${[...SERVER_PROFILES, ...LEGACY_PROFILES].join("|")}]`

const main = async (): Promise<void> => {
  // `pnpm fake-homeserver -- --port 8008` passes the `--` through: drop it.
  const args = process.argv.slice(2)
  const { values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "server-name": { type: "string", default: "localhost" },
      data: { type: "string" },
      "max-body-mb": { type: "string", default: "50" },
      profile: { type: "string", default: "synapse" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const port = Number(values.port)
  const maxBodyMb = Number(values["max-body-mb"])
  const profile = values.profile
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(maxBodyMb > 0) || !isProfileName(profile)) throw new Error(USAGE)
  const server = await startFakeHomeserver({
    host: values.host,
    port,
    serverName: values["server-name"],
    maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
    profile,
    ...(values.data === undefined ? {} : { dataFile: values.data }),
  })
  process.stdout.write(`${JSON.stringify({ url: server.url, profile })}\n`)
  const stop = (): void => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-homeserver: ${error instanceof Error ? error.message : "failed to start"}\n`)
  process.exit(2)
})
