/**
 * Benchmark (prints figures, asserts nothing): decrypt and encrypt 10,000 realistic sessions with the node:crypto
 * backend, on this thread and on a 2-thread pool (batches of 200, 4 in flight, as a restore sends them), next to
 * matrix-sdk-crypto-wasm's decryptV1 in the same run. Medians of 5. Run: pnpm --filter @matrix-backup/crypto-node bench
 */
import { Entropy, type MegolmBackupV1 } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { CryptoBackend } from "@matrix-backup/core"
import * as W from "@matrix-org/matrix-sdk-crypto-wasm"
import { Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { NodeCryptoBackend, NodeDecryptPool } from "../src/index.js"

const KEYS = 10_000
const RUNS = 5
const privateKey = new Uint8Array(randomBytes(32))
const publicKey = Curve25519.publicKeyFromPrivateKey(privateKey)
// About 450 bytes, the size of a BackedUpSessionData with a real session key.
const plaintexts = Array.from({ length: KEYS }, () => new TextEncoder().encode(JSON.stringify({ session_key: randomBytes(229).toString("base64"), sender_key: randomBytes(32).toString("base64"), pad: "x".repeat(60) })))

const timed = async (run: () => Promise<unknown>): Promise<number> => {
  const rates: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    await run()
    rates.push(KEYS / ((performance.now() - start) / 1000))
  }
  return rates.sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? Number.NaN
}

const program = Effect.gen(function* () {
  const local = yield* Effect.provide(CryptoBackend.CryptoBackend, NodeCryptoBackend.layer.pipe(Layer.provide(Entropy.layer)))
  const items: ReadonlyArray<MegolmBackupV1.SessionData> = yield* local.encryptSessions(publicKey, plaintexts)
  const key = Redacted.make(privateKey)
  const batches = Array.from({ length: KEYS / 200 }, (_, i) => items.slice(i * 200, i * 200 + 200))
  const pooled = yield* CryptoBackend.CryptoBackend
  const rows: Array<[string, number]> = []
  yield* Effect.promise(() => W.initAsync())
  const wasmKey = W.BackupDecryptionKey.fromBase64(Buffer.from(privateKey).toString("base64").replace(/=+$/, ""))
  rows.push(["matrix-sdk-crypto-wasm decryptV1", yield* Effect.promise(() => timed(async () => items.forEach((i) => wasmKey.decryptV1(i.ephemeral, i.mac, i.ciphertext))))])
  rows.push(["node decrypt, this thread", yield* Effect.promise(() => timed(() => Effect.runPromise(local.decryptSessions(key, items))))])
  const onPool = Effect.forEach(batches, (batch) => pooled.decryptSessions(key, batch), { concurrency: 4 })
  rows.push(["node decrypt, 2 worker threads", yield* Effect.promise(() => timed(() => Effect.runPromise(onPool)))])
  rows.push(["node encrypt, this thread", yield* Effect.promise(() => timed(() => Effect.runPromise(local.encryptSessions(publicKey, plaintexts))))])
  const reference = rows[0]?.[1] ?? Number.NaN
  console.log(`Node ${process.version}, ${KEYS} sessions, median of ${RUNS}`)
  for (const [label, rate] of rows) console.log(`${label.padEnd(36)} ${Math.round(rate).toString().padStart(7)} keys/s   ${(rate / reference).toFixed(2)}x wasm`)
})

// The pool runs the built worker entry (turbo builds the package before `bench`).
const pool = NodeDecryptPool.layer({ size: 2, entry: new URL("../dist/DecryptWorkerMain.js", import.meta.url) }).pipe(Layer.provide(Entropy.layer))
await Effect.runPromise(program.pipe(Effect.provide(pool), Effect.scoped))
