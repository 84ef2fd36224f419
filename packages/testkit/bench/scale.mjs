/* global console, process, performance, fetch */
// Benchmark (prints figures, asserts nothing): seed an N-key backup encrypted on node:crypto, then
// count it and GET it whole over loopback. Run after `build`: node bench/scale.mjs [--keys N] [--reuse K]
import { parseArgs } from "node:util"
import { generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "../dist/index.js"
import { randomBytes } from "node:crypto"

// `pnpm ... bench -- --keys N` passes the `--` through: drop it.
const args = process.argv.slice(2)
const { values } = parseArgs({ args: args[0] === "--" ? args.slice(1) : args, options: { keys: { type: "string", default: "100000" }, reuse: { type: "string", default: "1" } } })
const count = Number(values.keys)
const reuse = Number(values.reuse)
const ms = (start) => `${(performance.now() - start).toFixed(0)} ms`

const server = await startFakeHomeserver()
try {
  const user = await registerUser(server.url)
  let t = performance.now()
  const keys = generateRoomKeys(count, { rooms: Math.ceil(count / 200) })
  console.log(`generateRoomKeys(${count}): ${ms(t)}`)
  t = performance.now()
  const { version } = await seedBackup(server.admin, user.userId, { backupPrivateKey: randomBytes(32), keys, ephemeralReuse: reuse })
  console.log(`seedBackup (encrypt + insert, ephemeralReuse=${reuse}): ${ms(t)}`)
  const headers = { authorization: `Bearer ${user.accessToken}` }
  t = performance.now()
  const info = await (await fetch(`${server.url}/_matrix/client/v3/room_keys/version`, { headers })).json()
  console.log(`GET /room_keys/version (count=${info.count}): ${ms(t)}`)
  t = performance.now()
  const response = await fetch(`${server.url}/_matrix/client/v3/room_keys/keys?version=${version}`, { headers })
  const text = await response.text()
  console.log(`GET /room_keys/keys whole body (${(text.length / 1e6).toFixed(1)} MB): ${ms(t)}`)
  t = performance.now()
  const body = JSON.parse(text)
  const total = Object.values(body.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)
  console.log(`JSON.parse (${total} sessions): ${ms(t)}`)
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
} finally {
  await server.stop()
}
