import { describe, expect, it } from "@effect/vitest"
import { CryptoBackend, Entropy, MegolmBackupV1 } from "@matrix-backup/core"
import { Curve25519, DecryptWorker } from "@matrix-backup/core/adapter"
import { Effect, Either, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { threadId } from "node:worker_threads"
import { NodeDecryptPool } from "../src/index.js"

// The worker script as this package ships it: `pnpm build` bundles it into dist (the test task runs after the build).
// Workers cannot run the TypeScript sources the rest of this suite imports.
const entry = new URL("../dist/DecryptWorkerMain.js", import.meta.url)

describe("NodeDecryptPool", () => {
  it("decrypts on worker threads exactly what the @noble functions decrypt, failures included, in order", async () => {
    const priv = new Uint8Array(randomBytes(32))
    const pub = Curve25519.publicKeyFromPrivateKey(priv)
    const items = Array.from({ length: 600 }, (_, i) => {
      const data = MegolmBackupV1.encryptSessionData(pub, new TextEncoder().encode(JSON.stringify({ i })), new Uint8Array(randomBytes(32)))
      return i % 50 === 7 ? { ...data, mac: "AAAAAAAAAAA" } : i % 50 === 9 ? { ...data, ephemeral: "!" } : data
    })
    const program = Effect.gen(function* () {
      const backend = yield* CryptoBackend.CryptoBackend
      const batches = [items.slice(0, 200), items.slice(200, 400), items.slice(400)]
      const results = yield* Effect.forEach(batches, (batch) => backend.decryptSessions(Redacted.make(priv), batch), { concurrency: "unbounded" })
      // One call larger than a worker request: split over the workers, results in order.
      const whole = yield* backend.decryptSessions(Redacted.make(priv), items)
      return { name: backend.name, results: results.flat(), whole }
    })
    const { name, results, whole } = await Effect.runPromise(
      program.pipe(Effect.scoped, Effect.provide(NodeDecryptPool.layer({ size: 2, entry }).pipe(Layer.provide(Entropy.layer)))),
    )
    // Everything but decryption stays on this thread with the node:crypto backend.
    expect(name).toBe("node")
    expect(threadId).toBe(0)
    const outcome = (r: Either.Either<Uint8Array, MegolmBackupV1.BackupDecryptionError>) =>
      Either.match(r, { onLeft: (e) => e.reason, onRight: (b) => new TextDecoder().decode(b) })
    expect(results.map(outcome)).toEqual(items.map((item) => outcome(MegolmBackupV1.decryptSessionData(priv, item))))
    expect(results.filter(Either.isLeft)).toHaveLength(24)
    expect(items.length).toBeGreaterThan(DecryptWorker.MAX_ITEMS_PER_REQUEST)
    expect(whole.map(outcome)).toEqual(results.map(outcome))
  })

  it("is ready before its worker has loaded, so a command's start-up goes on meanwhile; the first batch waits for it", async () => {
    // A worker that loads only once the gate file exists, which the test creates after the layer is built: a layer
    // that waited for its worker would never be built.
    const dir = mkdtempSync(join(tmpdir(), "gated-worker-"))
    const gate = join(dir, "open")
    const script = join(dir, "GatedWorker.mjs")
    writeFileSync(
      script,
      `import { existsSync } from "node:fs"\nwhile (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 5))\nawait import(${JSON.stringify(entry.href)})\n`,
    )
    const priv = new Uint8Array(randomBytes(32))
    const item = MegolmBackupV1.encryptSessionData(Curve25519.publicKeyFromPrivateKey(priv), new TextEncoder().encode("hi"), new Uint8Array(randomBytes(32)))
    const program = Effect.gen(function* () {
      const backend = yield* CryptoBackend.CryptoBackend
      writeFileSync(gate, "")
      return yield* backend.decryptSessions(Redacted.make(priv), [item])
    })
    const [result] = await Effect.runPromise(
      program.pipe(Effect.scoped, Effect.provide(NodeDecryptPool.layer({ size: 1, entry: pathToFileURL(script) }).pipe(Layer.provide(Entropy.layer)))),
    )
    expect(result && Either.map(result, (bytes) => new TextDecoder().decode(bytes))).toEqual(Either.right("hi"))
  })

  it("a missing worker script is a defect at start, not a hang or a per-key failure", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(CryptoBackend.CryptoBackend, (b) => b.decryptSessions(Redacted.make(new Uint8Array(32)), [{ ephemeral: "", ciphertext: "", mac: "" }])).pipe(
        Effect.scoped,
        Effect.provide(NodeDecryptPool.layer({ size: 1, entry: new URL("./no-such-worker.js", import.meta.url) }).pipe(Layer.provide(Entropy.layer))),
      ),
    )
    expect(exit._tag === "Failure" && exit.cause._tag).toBe("Die")
  })
})
