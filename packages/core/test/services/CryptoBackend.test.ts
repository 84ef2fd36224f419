// Choosing a CryptoBackend and the Entropy port (the shared CryptoBackend suite runs in @matrix-backup/integration).
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { x25519Supported } from "../../src/crypto/WebCryptoX25519.js"
import * as CryptoBackend from "../../src/services/CryptoBackend.js"
import * as Entropy from "../../src/services/Entropy.js"

describe("CryptoBackend.layer", () => {
  it("picks Web Crypto where X25519 is supported (Node 20)", async () => {
    expect(await x25519Supported()).toBe(true)
    const name = await Effect.runPromise(Effect.map(CryptoBackend.CryptoBackend, (b) => b.name).pipe(Effect.provide(CryptoBackend.layer), Effect.provide(Entropy.layer)))
    expect(name).toBe("webcrypto")
  })
})

describe("Entropy", () => {
  it("layer gives fresh random bytes of any length, beyond the 64 KiB Web Crypto limit", async () => {
    const [a, b] = await Effect.runPromise(Effect.flatMap(Entropy.Entropy, (e) => Effect.all([e.randomBytes(70_000), e.randomBytes(70_000)])).pipe(Effect.provide(Entropy.layer)))
    expect(a).toHaveLength(70_000)
    expect(Buffer.from(a ?? []).equals(Buffer.from(b ?? []))).toBe(false)
    expect(new Set(a?.subarray(65_536)).size).toBeGreaterThan(200)
  })

  it("layerSeeded repeats per seed and per call sequence, differs across seeds and calls", async () => {
    const draw = (seed: string) => Effect.runPromise(Effect.flatMap(Entropy.Entropy, (e) => Effect.all([e.randomBytes(32), e.randomBytes(32)])).pipe(Effect.provide(Entropy.layerSeeded(seed))))
    const [x1, x2] = await draw("a")
    const [y1] = await draw("a")
    const [z1] = await draw("b")
    expect(y1).toEqual(x1)
    expect(x2).not.toEqual(x1)
    expect(z1).not.toEqual(x1)
  })
})
