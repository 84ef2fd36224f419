// The DeviceKeys port from seeds: signatures others can verify, and what it reports about local verification.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import { ed25519PublicKeyFromSeed } from "../../src/crypto/Ed25519.js"
import { verifyJsonSignature } from "../../src/crypto/SignedJson.js"
import { decodeBase64, encodeBase64 } from "../../src/schema/Base64.js"
import { makeFromSeeds } from "../../src/services/DeviceKeys.js"

const seed = () => globalThis.crypto.getRandomValues(new Uint8Array(32))
const USER = "@alice:localhost"

describe("DeviceKeys.layerFromSeeds", () => {
  it.effect("signs with the device key, and with the master key when it is held", () =>
    Effect.gen(function* () {
      const device = seed()
      const master = seed()
      const keys = makeFromSeeds({ userId: USER, deviceId: "DEV", deviceSeed: Redacted.make(device), masterSeed: Redacted.make(master) })
      const masterPublic = encodeBase64(ed25519PublicKeyFromSeed(master))
      expect(keys.ed25519PublicKey).toBe(encodeBase64(ed25519PublicKeyFromSeed(device)))
      expect(Option.getOrThrow(keys.masterPublicKey)).toBe(masterPublic)
      const signed = yield* keys.signJson({ public_key: "abc", signatures: { "@bob:localhost": { "ed25519:X": "kept" } } })
      expect(Either.isRight(verifyJsonSignature(signed, USER, "ed25519:DEV", ed25519PublicKeyFromSeed(device)))).toBe(true)
      expect(Either.isRight(verifyJsonSignature(signed, USER, `ed25519:${masterPublic}`, ed25519PublicKeyFromSeed(master)))).toBe(true)
      expect(signed["signatures"]).toMatchObject({ "@bob:localhost": { "ed25519:X": "kept" } })
      expect(yield* keys.isOwnIdentityVerified()).toBe(true)
    }),
  )

  it.effect("without a master key: device signature only, identity not verified, only listed devices verified", () =>
    Effect.gen(function* () {
      const keys = makeFromSeeds({ userId: USER, deviceId: "DEV", deviceSeed: Redacted.make(seed()), verifiedDevices: ["OTHER"] })
      const signed = yield* keys.signJson({ public_key: "abc" })
      expect(Object.keys(Reflect.get(Object(signed["signatures"]), USER) ?? {})).toEqual(["ed25519:DEV"])
      expect(Option.isNone(keys.masterPublicKey)).toBe(true)
      expect(yield* keys.isOwnIdentityVerified()).toBe(false)
      expect([yield* keys.isDeviceVerified("DEV"), yield* keys.isDeviceVerified("OTHER"), yield* keys.isDeviceVerified("NOPE")]).toEqual([true, true, false])
    }),
  )

  it("a trusted master public key without its private part verifies the identity", () => {
    const keys = makeFromSeeds({ userId: USER, deviceId: "DEV", deviceSeed: Redacted.make(seed()), trustedMasterPublicKey: "MASTER" })
    expect(Option.getOrThrow(keys.masterPublicKey)).toBe("MASTER")
    expect(Effect.runSync(keys.isOwnIdentityVerified())).toBe(true)
  })

  it("a seed of the wrong length is refused without echoing it; the caller's buffer is not kept", () => {
    const short = Uint8Array.of(1, 2, 3)
    expect(() => makeFromSeeds({ userId: USER, deviceId: "DEV", deviceSeed: Redacted.make(short) })).toThrow(/device seed must be 32 bytes, got 3$/)
    const device = seed()
    const keys = makeFromSeeds({ userId: USER, deviceId: "DEV", deviceSeed: Redacted.make(device) })
    const before = keys.ed25519PublicKey
    device.fill(0)
    const signed = Effect.runSync(keys.signJson({ a: 1 }))
    expect(keys.ed25519PublicKey).toBe(before)
    const publicKey = decodeBase64(before) ?? new Uint8Array(0)
    expect(Either.isRight(verifyJsonSignature(signed, USER, "ed25519:DEV", publicKey))).toBe(true)
  })
})
