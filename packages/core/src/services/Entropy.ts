/**
 * Entropy port: the only source of randomness in core (ephemeral keys, IVs, salts), so tests can be deterministic.
 */
import { chacha20 } from "@noble/ciphers/chacha.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { Context, Effect, Layer } from "effect"

/** Supplies cryptographically secure random bytes. */
export class Entropy extends Context.Tag("@matrix-backup/core/Entropy")<
  Entropy,
  {
    readonly randomBytes: (n: number) => Effect.Effect<Uint8Array>
    /**
     * `system`: the platform CSPRNG, which Web Crypto's own key generation also draws from, so a backend may let
     * `crypto.subtle.generateKey` make ephemeral keys (much faster than importing supplied bytes). `seeded`: every
     * random byte must come from `randomBytes`, so results are reproducible.
     */
    readonly source: "system" | "seeded"
  }
>() {}

/** Web Crypto's `getRandomValues` refuses more than 65536 bytes per call. */
const MAX_CHUNK = 65_536

/** Random bytes from `globalThis.crypto.getRandomValues`, filled in 64 KiB chunks. */
export const make: Context.Tag.Service<Entropy> = {
  source: "system",
  randomBytes: (n) =>
    Effect.sync(() => {
      const out = new Uint8Array(n)
      for (let offset = 0; offset < n; offset += MAX_CHUNK) {
        globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(n, offset + MAX_CHUNK)))
      }
      return out
    }),
}

/** The system CSPRNG (Web Crypto, in browsers and Node). */
export const layer: Layer.Layer<Entropy> = Layer.succeed(Entropy, make)

/**
 * Deterministic bytes for tests only: call k returns the ChaCha20 keystream under key SHA-256(seed) and nonce k.
 * The same seed and the same sequence of calls give the same bytes. Never use outside tests.
 */
export const makeSeeded = (seed: string): Context.Tag.Service<Entropy> => {
  const key = sha256(new TextEncoder().encode(seed))
  let calls = 0
  return {
    source: "seeded",
    randomBytes: (n) =>
      Effect.sync(() => {
        const nonce = new Uint8Array(12)
        new DataView(nonce.buffer).setUint32(8, calls++, false)
        return chacha20(key, nonce, new Uint8Array(n))
      }),
  }
}

/** A fresh deterministic Entropy per layer build (see `makeSeeded`). */
export const layerSeeded = (seed: string): Layer.Layer<Entropy> => Layer.sync(Entropy, () => makeSeeded(seed))
