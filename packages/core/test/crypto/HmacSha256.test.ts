import { describe, expect, it } from "@effect/vitest"
import { hkdf } from "@noble/hashes/hkdf.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { webcrypto } from "node:crypto"
import { HmacSha256 } from "../../src/crypto/HmacSha256.js"
import * as M from "../../src/crypto/MegolmBackupV1.js"

const concat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b])
const key = fc.uint8Array({ maxLength: 100, size: "max" })
const message = fc.uint8Array({ maxLength: 300, size: "max" })

describe("HmacSha256", () => {
  it("equals @noble/hashes' hmac for any key (longer than a block too) and any two message parts, across reuse", () => {
    // One instance for every run: re-keying and reuse must leave nothing of the previous key or message behind.
    const mac = new HmacSha256()
    fc.assert(
      fc.property(key, fc.array(fc.tuple(message, fc.option(message, { nil: undefined })), { minLength: 1, maxLength: 4 }), (k, parts) => {
        mac.setKey(k)
        for (const [first, second] of parts) {
          const out = new Uint8Array(40).fill(0xee)
          mac.macInto(out, first, second)
          expect(out.subarray(0, 32)).toEqual(hmac(sha256, k, second === undefined ? first : concat(first, second)))
          expect(out.subarray(32)).toEqual(new Uint8Array(8).fill(0xee))
        }
        mac.wipe()
      }),
      { numRuns: 300 },
    )
  })

  it("matches Web Crypto's HMAC-SHA-256 (RFC 4231 test case 2)", async () => {
    const k = new TextEncoder().encode("Jefe")
    const data = new TextEncoder().encode("what do ya want for nothing?")
    const out = new Uint8Array(32)
    new HmacSha256().setKey(k).macInto(out, data.subarray(0, 10), data.subarray(10))
    expect(Buffer.from(out).toString("hex")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    const webKey = await webcrypto.subtle.importKey("raw", k, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    expect(out).toEqual(new Uint8Array(await webcrypto.subtle.sign("HMAC", webKey, data)))
  })

  it("refuses use after wipe until re-keyed", () => {
    const mac = new HmacSha256().setKey(new Uint8Array(32).fill(1))
    mac.wipe()
    expect(() => mac.macInto(new Uint8Array(32), new Uint8Array(1))).toThrow()
    mac.setKey(new Uint8Array(32).fill(1))
    expect(() => mac.macInto(new Uint8Array(32), new Uint8Array(1))).not.toThrow()
  })
})

describe("MegolmBackupV1 derivation over HmacSha256", () => {
  it("deriveBackupKeys equals noble's HKDF-SHA-256(S, 32 zero bytes, empty info, 80) and backupMac noble's HMAC, for any secret", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (secret) => {
        const okm = hkdf(sha256, secret, new Uint8Array(32), new Uint8Array(0), 80)
        const keys = M.deriveBackupKeys(secret)
        expect(Uint8Array.from([...keys.aesKey, ...keys.macKey, ...keys.iv])).toEqual(okm)
        expect(M.backupMac(keys.macKey)).toEqual(hmac(sha256, okm.subarray(32, 64), new Uint8Array(0)).subarray(0, M.BACKUP_MAC_LENGTH))
      }),
      { numRuns: 300 },
    )
  })
})
