// Benchmark (prints figures, asserts nothing): the two download parsers on one in-memory body of N realistic
// sessions, fed in 64 KiB chunks as a socket delivers them: the splitter (native JSON.parse per session) and the
// token-level @streamparser/json parser. CPU only, no HTTP.
// Usage: node ../../scripts/run-ts.mjs bench/ParserBench.ts [keys=100000]
import { randomBytes } from "node:crypto"
import { RoomKeySplitter } from "../src/RoomKeySplitter.js"
import { RoomKeyParser } from "../src/RoomKeyStream.js"
import type { PushParser } from "../src/RoomKeyStream.js"

const count = Number(process.argv.filter((a) => /^\d+$/.test(a))[0] ?? 100_000)
const b64 = (n: number) => randomBytes(n).toString("base64").replace(/=+$/, "")
const rooms: Record<string, { sessions: Record<string, unknown> }> = {}
for (let i = 0; i < count; i++) {
  // Uneven rooms: a fifth of the sessions in one room, the rest over 300.
  const room = `!${i % 5 === 0 ? "big" : `r${i % 300}`}:localhost`
  const sessions = (rooms[room] ??= { sessions: {} }).sessions
  sessions[b64(32)] = {
    first_message_index: i % 40,
    forwarded_count: 0,
    is_verified: i % 2 === 0,
    session_data: { ephemeral: b64(32), ciphertext: b64(320 + (i % 5) * 16), mac: b64(8) },
  }
}
const body = new TextEncoder().encode(JSON.stringify({ rooms }))
const CHUNK = 64 * 1024

const time = (name: string, make: () => PushParser) => {
  const t0 = performance.now()
  const parser = make()
  let ok = 0
  for (let at = 0; at < body.length; at += CHUNK) ok += parser.write(body.subarray(at, at + CHUNK)).entries.length
  const end = parser.end()
  ok += end.entries.length
  const ms = performance.now() - t0
  if (ok !== count || end.failure !== undefined) throw new Error(`${name}: ${ok} entries, ${end.failure ?? "no failure"}`)
  console.log(`${name}: ${ms.toFixed(0)} ms, ${((count / ms) * 1000).toFixed(0)} keys/s, ${((ms * 1000) / count).toFixed(1)} µs/key`)
  return ms
}

console.log(`body: ${count} keys, ${(body.length / 1024 / 1024).toFixed(1)} MB`)
for (const round of [1, 2, 3]) {
  const split = time(`#${round} splitter + JSON.parse`, () => new RoomKeySplitter({ _tag: "All" }))
  const token = time(`#${round} @streamparser/json`, () => new RoomKeyParser({ _tag: "All" }))
  console.log(`#${round} splitter is ${(token / split).toFixed(2)}x faster`)
}
