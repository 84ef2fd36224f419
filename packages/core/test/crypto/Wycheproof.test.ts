import { describe, expect, it } from "@effect/vitest"
import { isAllZero } from "../../src/crypto/Bytes.js"
import { sharedSecret } from "../../src/crypto/Curve25519.js"
import { ed25519Verify } from "../../src/crypto/Ed25519.js"
import { deriveX25519Raw, importX25519PrivateKey } from "../../src/crypto/WebCryptoX25519.js"
import ed25519Vectors from "../vectors/wycheproof-ed25519.json" with { type: "json" }
import x25519Vectors from "../vectors/wycheproof-x25519.json" with { type: "json" }

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"))
const toHex = (bytes: Uint8Array | undefined) => (bytes === undefined ? "refused" : Buffer.from(bytes).toString("hex"))
/** What both backends must return: the RFC 7748 result, or a refusal exactly when that result is all zero. */
const expected = (shared: string) => (isAllZero(hex(shared)) ? "refused" : shared)

describe("Wycheproof X25519 (518 vectors, incl. twist, non-canonical and low-order public keys)", () => {
  // https://github.com/C2SP/wycheproof/blob/main/testvectors_v1/x25519_test.json
  it("@noble path (Curve25519.sharedSecret)", () => {
    for (const t of x25519Vectors.tests) {
      expect([t.tcId, toHex(sharedSecret(hex(t.private), hex(t.public)))]).toEqual([t.tcId, expected(t.shared)])
    }
  })

  // https://github.com/C2SP/wycheproof/blob/main/testvectors_v1/x25519_test.json
  it("Web Crypto path (WebCryptoX25519.deriveX25519Raw)", async () => {
    const results = await Promise.all(
      x25519Vectors.tests.map(async (t) => [t.tcId, toHex(await deriveX25519Raw(await importX25519PrivateKey(hex(t.private)), hex(t.public)))]),
    )
    expect(results).toEqual(x25519Vectors.tests.map((t) => [t.tcId, expected(t.shared)]))
  })
})

describe("Wycheproof Ed25519 (151 vectors, incl. malleability and bad encodings)", () => {
  // https://github.com/C2SP/wycheproof/blob/main/testvectors_v1/ed25519_test.json
  it("ed25519Verify accepts exactly the valid signatures", () => {
    for (const group of ed25519Vectors.testGroups) {
      for (const t of group.tests) {
        expect([t.tcId, ed25519Verify(hex(t.sig), hex(t.msg), hex(group.publicKey))]).toEqual([t.tcId, t.result === "valid"])
      }
    }
  })
})
