import { describe, expect, it } from "@effect/vitest"
import { CryptoBackend, Entropy, MegolmBackupV1 } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { BackupDecryptionKey } from "@matrix-org/matrix-sdk-crypto-wasm"
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm"
import type { Context } from "effect"
import { Effect, Either, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { cryptoBackendSuite } from "@matrix-backup/testkit/CryptoBackendSuite"
import { NodeCryptoBackend } from "../src/index.js"

cryptoBackendSuite("node", NodeCryptoBackend.layer)

const run = <A>(f: (b: Context.Tag.Service<CryptoBackend.CryptoBackend>) => Effect.Effect<A>, entropy = Entropy.layer) =>
  Effect.runPromise(Effect.flatMap(CryptoBackend.CryptoBackend, f).pipe(Effect.provide(NodeCryptoBackend.layer.pipe(Layer.provide(entropy)))))

describe("node:crypto backend", () => {
  it("is named node", async () => {
    expect(await run((b) => Effect.succeed(b.name))).toBe("node")
  })

  // The other direction is the shared suite's known-answer vectors, written by libolm, matrix-rust-sdk and js-sdk.
  it("writes sessions that matrix-sdk-crypto-wasm decrypts", async () => {
    await wasm.initAsync()
    const decryptionKey = BackupDecryptionKey.createRandomKey()
    const publicKey = Buffer.from(decryptionKey.megolmV1PublicKey.publicKeyBase64, "base64")
    const plaintexts = Array.from({ length: 30 }, (_, i) => JSON.stringify({ session_key: randomBytes(150 + i).toString("base64"), i }))

    const ours = await run((b) => b.encryptSessions(publicKey, plaintexts.map((p) => new TextEncoder().encode(p))))
    expect(ours.map((d) => decryptionKey.decryptV1(d.ephemeral, d.mac, d.ciphertext))).toEqual(plaintexts)
  })

  it("gives the same result as the @noble functions for every single-bit corruption of a session", async () => {
    const priv = new Uint8Array(randomBytes(32))
    const pub = Curve25519.publicKeyFromPrivateKey(priv)
    const good = MegolmBackupV1.encryptSessionData(pub, new TextEncoder().encode('{"a":"b"}'), new Uint8Array(randomBytes(32)))
    const flip = (text: string, i: number) => {
      const bytes = Buffer.from(text, "base64")
      bytes[i % bytes.length] = (bytes[i % bytes.length] ?? 0) ^ (1 << i % 8)
      return bytes.toString("base64").replace(/=+$/, "")
    }
    const items = [
      ...Array.from({ length: 40 }, (_, i) => ({ ...good, ciphertext: flip(good.ciphertext, i * 3) })),
      ...Array.from({ length: 16 }, (_, i) => ({ ...good, mac: flip(good.mac, i * 5) })),
      ...Array.from({ length: 16 }, (_, i) => ({ ...good, ephemeral: flip(good.ephemeral, i * 17) })),
    ]
    const show = (r: Either.Either<Uint8Array, MegolmBackupV1.BackupDecryptionError>) =>
      Either.match(r, { onLeft: (e) => e.reason, onRight: (b) => Buffer.from(b).toString("hex") })
    const expected = items.map((item) => show(MegolmBackupV1.decryptSessionData(priv, item)))
    const results = await run((b) => b.decryptSessions(Redacted.make(priv), items))
    expect(results.map(show)).toEqual(expected)
  })
})

