/**
 * Benchmark: decrypt and encrypt realistic backed-up sessions with each CryptoBackend, next to
 * @matrix-org/matrix-sdk-crypto-wasm (what matrix-js-sdk uses) in the same run. Prints keys/s, medians of N runs.
 * Run: pnpm --filter @matrix-backup/bench bench   (env: BENCH_KEYS=10000 BENCH_RUNS=5 BENCH_NOBLE_KEYS=10000)
 */
import * as W from "@matrix-org/matrix-sdk-crypto-wasm"
import type { Context } from "effect"
import { Effect, Either, Redacted } from "effect"
import { Base64, CryptoBackend, Entropy, type MegolmBackupV1, RoomKey, SessionExport } from "@matrix-backup/core"
import { Bytes, Curve25519, WebCryptoX25519 } from "@matrix-backup/core/adapter"

const KEYS = Number(process.env.BENCH_KEYS ?? 10_000)
const NOBLE_KEYS = Number(process.env.BENCH_NOBLE_KEYS ?? KEYS)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))

/** A BackedUpSessionData plaintext as matrix-rust-sdk writes it (about 450 bytes with a real-size session_key). */
const realisticPlaintext = (): Uint8Array =>
  Bytes.utf8Encode(
    JSON.stringify({
      algorithm: RoomKey.MEGOLM_V1_AES_SHA2,
      sender_key: Base64.encodeBase64(random(32)),
      session_key: SessionExport.makeSessionExport(0, random(128), random(32)),
      sender_claimed_keys: { ed25519: Base64.encodeBase64(random(32)) },
      forwarding_curve25519_key_chain: [],
      "m.shared_history": false,
    }),
  )

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

type Task = { readonly label: string; readonly count: number; readonly run: () => Promise<void> | void }

/**
 * Runs every task RUNS times, interleaved round by round so that background load hits all of them alike,
 * and prints each median (and best) keys/s with its ratio to the first task (the wasm reference).
 */
const compare = async (title: string, tasks: ReadonlyArray<Task>): Promise<void> => {
  const rates = tasks.map(() => new Array<number>())
  for (let round = 0; round < RUNS; round++) {
    for (const [i, task] of tasks.entries()) {
      const start = performance.now()
      await task.run()
      rates[i]?.push(task.count / ((performance.now() - start) / 1000))
    }
  }
  const reference = median(rates[0] ?? [])
  console.log(`\n${title}`)
  for (const [i, task] of tasks.entries()) {
    const m = median(rates[i] ?? [])
    const best = Math.max(...(rates[i] ?? []))
    console.log(`${task.label.padEnd(44)} ${Math.round(m).toString().padStart(7)} keys/s (best ${Math.round(best)})   ${(m / reference).toFixed(2)}x wasm`)
  }
}

const backends: ReadonlyArray<readonly [string, (e: Context.Tag.Service<Entropy.Entropy>) => Context.Tag.Service<CryptoBackend.CryptoBackend>, number]> = [
  ["webcrypto (X25519 subtle + @noble symmetric)", (e) => CryptoBackend.makeWebCrypto(e), KEYS],
  ["webcrypto (all subtle)", (e) => CryptoBackend.makeWebCrypto(e, { symmetric: "subtle" }), KEYS],
  ["noble", CryptoBackend.makeNoble, NOBLE_KEYS],
]

const main = async () => {
  await W.initAsync()
  if (!(await WebCryptoX25519.x25519Supported())) console.log("Web Crypto X25519 not supported here: the webcrypto rows will fail")
  const privateKey = random(32)
  const publicKey = Curve25519.publicKeyFromPrivateKey(privateKey)
  const plaintexts = Array.from({ length: KEYS }, realisticPlaintext)
  const entropy = Entropy.make
  const items: ReadonlyArray<MegolmBackupV1.SessionData> = await Effect.runPromise(CryptoBackend.makeWebCrypto(entropy).encryptSessions(publicKey, plaintexts))
  const avg = Math.round(plaintexts.reduce((n, p) => n + p.length, 0) / KEYS)
  console.log(`Node ${process.version}, ${KEYS} sessions (plaintext ~${avg} bytes), median of ${RUNS} runs`)

  const wasmKey = W.BackupDecryptionKey.fromBase64(Base64.encodeBase64(privateKey))
  const decryptTasks: Array<Task> = [
    { label: "matrix-sdk-crypto-wasm decryptV1", count: KEYS, run: () => void items.forEach((i) => wasmKey.decryptV1(i.ephemeral, i.mac, i.ciphertext)) },
  ]
  for (const [label, make, count] of backends) {
    const backend = make(entropy)
    const slice = items.slice(0, count)
    const check = await Effect.runPromise(backend.decryptSessions(Redacted.make(privateKey), slice))
    if (!check.every((r, i) => Either.isRight(r) && Buffer.from(r.right).equals(Buffer.from(plaintexts[i] ?? [])))) throw new Error(`${label}: wrong output`)
    decryptTasks.push({ label, count, run: () => Effect.runPromise(Effect.asVoid(backend.decryptSessions(Redacted.make(privateKey), slice))) })
  }
  await compare("decrypt", decryptTasks)

  const encryptor = W.PkEncryption.fromKey(new W.Curve25519PublicKey(Base64.encodeBase64(publicKey)))
  const encryptTasks: Array<Task> = [
    { label: "matrix-sdk-crypto-wasm PkEncryption.encrypt", count: KEYS, run: () => void plaintexts.forEach((p) => encryptor.encrypt(p).toBase64()) },
  ]
  for (const [label, make, count] of backends) {
    const backend = make(entropy)
    const slice = plaintexts.slice(0, count)
    encryptTasks.push({ label, count, run: () => Effect.runPromise(Effect.asVoid(backend.encryptSessions(publicKey, slice))) })
  }
  await compare("encrypt", encryptTasks)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
