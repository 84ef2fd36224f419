// Benchmark (prints figures, asserts nothing): download an N-key backup through streamRoomKeys over
// loopback HTTP and report time, throughput and heap/RSS growth against the body size; then the same
// backup through getRoomKeys (one JSON.parse + decode) for comparison.
// Usage: node ../../scripts/run-ts.mjs bench/StreamBench.ts [keys=100000]
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Ids } from "@matrix-backup/core"
import { Effect, Either, Redacted, Stream } from "effect"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { make } from "../src/FetchHomeserverApi.js"

const count = Number(process.argv.filter((a) => /^\d+$/.test(a))[0] ?? 100_000)
const MB = 1024 * 1024
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()
const mem = () => process.memoryUsage()
const fmt = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`

const viteConfig = fileURLToPath(new URL("../../../vitest.shared.ts", import.meta.url))
const serverScript = fileURLToPath(new URL("./Server.ts", import.meta.url))
const child = spawn(process.execPath, [process.env.MB_VITE_NODE ?? "", "-c", viteConfig, serverScript, "--", String(count)], {
  stdio: ["pipe", "pipe", "inherit"],
})
const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve))
const info = JSON.parse(line) as { url: string; userId: string; accessToken: string; version: string }
const version = Ids.BackupVersion.make(info.version)
const config = { baseUrl: info.url, accessToken: Redacted.make(info.accessToken), userId: Ids.UserId.make(info.userId) }

const bodyBytes = async (): Promise<number> => {
  const response = await fetch(`${info.url}/_matrix/client/v3/room_keys/keys?version=${version}`, {
    headers: { authorization: `Bearer ${info.accessToken}` },
  })
  const reader = response.body?.getReader()
  let total = 0
  for (let next = await reader?.read(); next !== undefined && !next.done; next = await reader?.read()) {
    total += next.value.byteLength
  }
  return total
}

const program = Effect.gen(function* () {
  const api = make(config, yield* HttpClient.HttpClient)
  const body = yield* Effect.promise(bodyBytes)
  console.log(`backup: ${count} keys, response body ${fmt(body)}`)

  for (const round of [1, 2]) {
    gc()
    const before = mem()
    let peakHeap = before.heapUsed
    let peakRss = before.rss
    let ok = 0
    let bad = 0
    const live: Array<string> = []
    const t0 = performance.now()
    yield* Stream.runForEach(api.streamRoomKeys(version), (entry) =>
      Effect.sync(() => {
        if (Either.isRight(entry.data)) ok += 1
        else bad += 1
        if ((ok + bad) % 2000 === 0) {
          const m = mem()
          peakHeap = Math.max(peakHeap, m.heapUsed)
          peakRss = Math.max(peakRss, m.rss)
        }
        // Live (post-GC) heap at each quarter: flat means memory does not grow with the backup.
        if (round === 2 && (ok + bad) % Math.max(1, Math.floor(count / 4)) === 0) {
          gc()
          live.push(`+${fmt(mem().heapUsed - before.heapUsed)}`)
        }
      }),
    )
    const ms = performance.now() - t0
    console.log(
      `stream #${round}: ${ok} ok + ${bad} malformed in ${ms.toFixed(0)} ms (${((ok + bad) / (ms / 1000)).toFixed(0)} keys/s, ${(body / MB / (ms / 1000)).toFixed(1)} MB/s); ` +
        `peak heap +${fmt(peakHeap - before.heapUsed)}, peak RSS +${fmt(peakRss - before.rss)} vs body ${fmt(body)}` +
        (live.length > 0 ? `; live heap after GC at 25/50/75/100%: ${live.join(", ")}` : ""),
    )
  }

  gc()
  const before = mem()
  const t0 = performance.now()
  const whole = yield* api.getRoomKeys(version)
  const ms = performance.now() - t0
  const after = mem()
  const keys = Object.values(whole.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)
  console.log(
    `getRoomKeys (whole body): ${keys} keys in ${ms.toFixed(0)} ms; heap retained +${fmt(after.heapUsed - before.heapUsed)}, RSS +${fmt(after.rss - before.rss)}`,
  )
})

await Effect.runPromise(program.pipe(Effect.provide(FetchHttpClient.layer)))
child.stdin.end()
