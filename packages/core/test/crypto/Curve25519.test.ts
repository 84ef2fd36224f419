// The two ways to X25519(priv, 9) agree: the ladder used for one-off key checks and the table-based one used in bulk.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { publicKeyFromPrivateKey, publicKeyFromPrivateKeyOnce } from "../../src/crypto/Curve25519.js"

// RFC 7748 §6.1 "Alice": https://www.rfc-editor.org/rfc/rfc7748#section-6.1
const ALICE_PRIVATE = Uint8Array.from(Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"))
const ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"

describe("Curve25519 public keys", () => {
  it("the ladder gives RFC 7748's public key", () => {
    expect(Buffer.from(publicKeyFromPrivateKeyOnce(ALICE_PRIVATE)).toString("hex")).toBe(ALICE_PUBLIC)
  })

  it("the ladder and the base-point table agree on any 32 bytes, unclamped as stored", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (priv) => {
        expect(publicKeyFromPrivateKeyOnce(priv)).toEqual(publicKeyFromPrivateKey(priv))
      }),
      { numRuns: 200 },
    )
  })

  it("a private key of the wrong length is a RangeError", () => {
    expect(() => publicKeyFromPrivateKeyOnce(new Uint8Array(31))).toThrow(RangeError)
  })
})
