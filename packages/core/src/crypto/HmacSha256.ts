/**
 * HMAC-SHA-256 (RFC 2104) over @noble/hashes' SHA-256, with hash states that are re-keyed and reused instead of
 * allocated per call. The backup derivation runs five HMACs per session; with noble's `hmac()` their allocations
 * (hash objects, pads, DataViews over fresh small arrays) cost more than the SHA-256 compressions themselves.
 * Same bytes as `hmac(sha256, key, message)`; the tests compare the two on random input.
 */
import { sha256 } from "@noble/hashes/sha2.js"

type Sha256 = ReturnType<typeof sha256.create>

const BLOCK = 64
/** Bytes in an HMAC-SHA-256 tag. */
export const HMAC_SHA256_LENGTH = 32

/** One HMAC key at a time, synchronous and not re-entrant: `setKey`, any number of `macInto`, then `wipe`. */
export class HmacSha256 {
  /** An empty SHA-256 state: copied over the others to reset them without allocating. */
  private readonly initial: Sha256 = sha256.create()
  /** SHA-256 after absorbing key XOR ipad, and after key XOR opad. */
  private readonly inner: Sha256 = sha256.create()
  private readonly outer: Sha256 = sha256.create()
  private readonly work: Sha256 = sha256.create()
  private readonly pad = new Uint8Array(BLOCK)
  private readonly innerDigest = new Uint8Array(HMAC_SHA256_LENGTH)

  /** Keys longer than a block are hashed first (RFC 2104 §2). */
  setKey(key: Uint8Array): this {
    const pad = this.pad
    pad.fill(0)
    if (key.length > BLOCK) {
      const digest = sha256(key)
      pad.set(digest)
      digest.fill(0)
    } else {
      pad.set(key)
    }
    for (let i = 0; i < BLOCK; i++) pad[i] = (pad[i] ?? 0) ^ 0x36
    this.initial._cloneInto(this.inner).update(pad)
    for (let i = 0; i < BLOCK; i++) pad[i] = (pad[i] ?? 0) ^ (0x36 ^ 0x5c)
    this.initial._cloneInto(this.outer).update(pad)
    pad.fill(0)
    return this
  }

  /** Writes HMAC(key, first ‖ second) into the first 32 bytes of `out`, which may alias neither part. */
  macInto(out: Uint8Array, first: Uint8Array, second?: Uint8Array): void {
    const work = this.inner._cloneInto(this.work).update(first)
    if (second !== undefined) work.update(second)
    work.digestInto(this.innerDigest)
    this.outer._cloneInto(this.work).update(this.innerDigest).digestInto(out)
  }

  /** Zeroes what the last message left behind, keeping the key (for a key that is not secret). */
  clearMessage(): void {
    this.work.destroy()
    this.innerDigest.fill(0)
  }

  /** Zeroes every state derived from the key or a message; `setKey` makes it usable again. */
  wipe(): void {
    this.clearMessage()
    this.inner.destroy()
    this.outer.destroy()
  }
}
