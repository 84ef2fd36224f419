// Every predicate of the trust verdict (PROTOCOL.md §7.5), on real Ed25519 signatures over raw auth_data.
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { ed25519PublicKeyFromSeed } from "../../src/crypto/Ed25519.js"
import { signJson } from "../../src/crypto/SignedJson.js"
import { encodeBase64 } from "../../src/schema/Base64.js"
import type { KeysQueryResponse } from "../../src/schema/DeviceKeys.js"
import { emptyIdentity, ownIdentityFrom } from "../../src/trust/OwnIdentity.js"
import type { SignatureCheck, SignatureState, TrustVerdict } from "../../src/trust/TrustVerdict.js"
import { allChecks, isSigned, isTrusted, isValidAndTrusted } from "../../src/trust/TrustVerdict.js"
import { type TrustContext, verifyAuthData } from "../../src/trust/VerifyAuthData.js"

const USER = "@alice:localhost"
const seed = () => globalThis.crypto.getRandomValues(new Uint8Array(32))
const pub = (s: Uint8Array) => encodeBase64(ed25519PublicKeyFromSeed(s))

const device = seed()
const other = seed()
const master = seed()
const ssk = seed()
const authData = { public_key: encodeBase64(globalThis.crypto.getRandomValues(new Uint8Array(32))) }

const sign = <T extends Record<string, unknown>>(o: T, keyId: string, s: Uint8Array, user = USER) => signJson(o, user, `ed25519:${keyId}`, s)
const deviceKeys = (id: string, s: Uint8Array) => ({
  user_id: USER,
  device_id: id,
  algorithms: ["m.megolm.v1.aes-sha2"],
  keys: { [`ed25519:${id}`]: pub(s), [`curve25519:${id}`]: encodeBase64(new Uint8Array(32).fill(9)) },
})
const csKey = (usage: string, s: Uint8Array) => ({ user_id: USER, usage: [usage], keys: { [`ed25519:${pub(s)}`]: pub(s) } })

/** A /keys/query answer: our master and self-signing keys, our device, and OTHER (self-signed, optionally cross-signed). */
const query = (options: { readonly crossSignOther?: boolean; readonly sskSignedByMaster?: boolean; readonly otherSelfSigned?: boolean } = {}): KeysQueryResponse => {
  let otherKeys: Record<string, unknown> = deviceKeys("OTHER", other)
  otherKeys = options.otherSelfSigned === false ? sign(otherKeys, "OTHER", seed()) : sign(otherKeys, "OTHER", other)
  if (options.crossSignOther === true) otherKeys = sign(otherKeys, pub(ssk), ssk)
  const sskObject = options.sskSignedByMaster === false ? csKey("self_signing", ssk) : sign(csKey("self_signing", ssk), pub(master), master)
  const response = {
    device_keys: { [USER]: { DEV: sign(deviceKeys("DEV", device), "DEV", device), OTHER: otherKeys } },
    master_keys: { [USER]: csKey("master", master) },
    self_signing_keys: { [USER]: sskObject },
  }
  // Parsed wire JSON is what the port returns; the branded keys are plain strings at runtime.
  return JSON.parse(JSON.stringify(response))
}

const ctx = (overrides: Partial<TrustContext> = {}): TrustContext => ({
  userId: USER,
  deviceId: "DEV",
  deviceEd25519: pub(device),
  identity: Option.some(ownIdentityFrom(query(), USER)),
  localMasterKey: Option.some(pub(master)),
  ownIdentityVerified: true,
  locallyVerified: new Set(),
  ...overrides,
})

const state = (c: SignatureCheck) => [c.state, c.reason]

describe("verifyAuthData: our own device", () => {
  it("a valid device signature is ValidAndTrusted", () => {
    expect(state(verifyAuthData(sign(authData, "DEV", device), ctx()).deviceSignature)).toEqual(["ValidAndTrusted", "Trusted"])
  })
  it("no signature is Missing", () => {
    expect(state(verifyAuthData(authData, ctx()).deviceSignature)).toEqual(["Missing", "NoSignature"])
  })
  it("tampered auth_data (public key swapped after signing) is Invalid", () => {
    const signed = { ...sign(authData, "DEV", device), public_key: encodeBase64(new Uint8Array(32).fill(1)) }
    expect(state(verifyAuthData(signed, ctx()).deviceSignature)).toEqual(["Invalid", "BadSignature"])
  })
  it("an extra field added after signing breaks the signature (checked on the raw JSON)", () => {
    const signed = { ...sign(authData, "DEV", device), private_key_salt: "x" }
    expect(verifyAuthData(signed, ctx()).deviceSignature.state).toBe("Invalid")
  })
  it("a signature that is not 64 bytes of base64 is Invalid (Malformed)", () => {
    const signed = { ...authData, signatures: { [USER]: { "ed25519:DEV": "not base64!" } } }
    expect(state(verifyAuthData(signed, ctx()).deviceSignature)).toEqual(["Invalid", "Malformed"])
  })
  it("a signature made by another key under our key id is Invalid", () => {
    expect(state(verifyAuthData(sign(authData, "DEV", other), ctx()).deviceSignature)).toEqual(["Invalid", "BadSignature"])
  })
  it("another user's signature with our device id is ignored", () => {
    const verdict = verifyAuthData(sign(authData, "DEV", device, "@mallory:localhost"), ctx())
    expect(verdict.deviceSignature.state).toBe("Missing")
    expect(Object.keys(verdict.otherSignatures)).toEqual([])
  })
})

describe("verifyAuthData: our master key", () => {
  it("held locally and valid: ValidAndTrusted", () => {
    expect(state(verifyAuthData(sign(authData, pub(master), master), ctx()).userIdentitySignature)).toEqual(["ValidAndTrusted", "Trusted"])
  })
  it("server's master key, identity not verified: ValidButNotTrusted", () => {
    const c = ctx({ localMasterKey: Option.none(), ownIdentityVerified: false })
    expect(state(verifyAuthData(sign(authData, pub(master), master), c).userIdentitySignature)).toEqual(["ValidButNotTrusted", "IdentityNotVerified"])
  })
  it("server's master key, identity verified without a local copy: ValidAndTrusted", () => {
    const c = ctx({ localMasterKey: Option.none(), ownIdentityVerified: true })
    expect(verifyAuthData(sign(authData, pub(master), master), c).userIdentitySignature.state).toBe("ValidAndTrusted")
  })
  it("signed by the server's master key while we hold a different one: ValidButNotTrusted (mismatch)", () => {
    const c = ctx({ localMasterKey: Option.some(pub(seed())) })
    expect(state(verifyAuthData(sign(authData, pub(master), master), c).userIdentitySignature)).toEqual(["ValidButNotTrusted", "MasterKeyMismatch"])
  })
  it("no master key anywhere: Missing (NoMasterKey); keys query failed: Missing (KeysQueryFailed)", () => {
    const none = ctx({ localMasterKey: Option.none(), identity: Option.some(emptyIdentity) })
    expect(state(verifyAuthData(authData, none).userIdentitySignature)).toEqual(["Missing", "NoMasterKey"])
    const failed = ctx({ localMasterKey: Option.none(), identity: Option.none() })
    expect(state(verifyAuthData(authData, failed).userIdentitySignature)).toEqual(["Missing", "KeysQueryFailed"])
  })
  it("a bad master signature is Invalid", () => {
    const forged = { ...authData, signatures: { [USER]: { [`ed25519:${pub(master)}`]: sign(authData, "x", seed()).signatures[USER]?.["ed25519:x"] ?? "" } } }
    expect(verifyAuthData(forged, ctx()).userIdentitySignature.state).toBe("Invalid")
  })
})

describe("verifyAuthData: our other devices", () => {
  const signedByOther = sign(authData, "OTHER", other)
  it("an unverified device: ValidButNotTrusted", () => {
    expect(state(verifyAuthData(signedByOther, ctx()).otherSignatures["OTHER"] ?? fail())).toEqual(["ValidButNotTrusted", "DeviceNotVerified"])
  })
  it("verified locally: ValidAndTrusted", () => {
    const c = ctx({ locallyVerified: new Set(["OTHER"]) })
    expect(verifyAuthData(signedByOther, c).otherSignatures["OTHER"]?.state).toBe("ValidAndTrusted")
  })
  it("cross-signed by our self-signing key under our trusted master key: ValidAndTrusted", () => {
    const c = ctx({ identity: Option.some(ownIdentityFrom(query({ crossSignOther: true }), USER)) })
    expect(verifyAuthData(signedByOther, c).otherSignatures["OTHER"]?.state).toBe("ValidAndTrusted")
  })
  it("cross-signed, but the master key is not trusted: ValidButNotTrusted", () => {
    const c = ctx({ identity: Option.some(ownIdentityFrom(query({ crossSignOther: true }), USER)), localMasterKey: Option.none(), ownIdentityVerified: false })
    expect(verifyAuthData(signedByOther, c).otherSignatures["OTHER"]?.state).toBe("ValidButNotTrusted")
  })
  it("cross-signed by a self-signing key the master key did not sign: ValidButNotTrusted", () => {
    const c = ctx({ identity: Option.some(ownIdentityFrom(query({ crossSignOther: true, sskSignedByMaster: false }), USER)) })
    expect(verifyAuthData(signedByOther, c).otherSignatures["OTHER"]?.state).toBe("ValidButNotTrusted")
  })
  it("device keys not self-signed: Invalid, even if verified locally", () => {
    const c = ctx({ identity: Option.some(ownIdentityFrom(query({ otherSelfSigned: false }), USER)), locallyVerified: new Set(["OTHER"]) })
    expect(state(verifyAuthData(signedByOther, c).otherSignatures["OTHER"] ?? fail())).toEqual(["Invalid", "DeviceKeysNotSelfSigned"])
  })
  it("unknown device: Missing", () => {
    expect(state(verifyAuthData(sign(authData, "GHOST", seed()), ctx()).otherSignatures["GHOST"] ?? fail())).toEqual(["Missing", "UnknownDevice"])
  })
  it("wrong signature from a known device: Invalid", () => {
    const c = ctx({ locallyVerified: new Set(["OTHER"]) })
    expect(verifyAuthData(sign(authData, "OTHER", seed()), c).otherSignatures["OTHER"]?.state).toBe("Invalid")
  })
  it("non-Ed25519 key ids are skipped", () => {
    const odd = { ...authData, signatures: { [USER]: { "curve25519:OTHER": "AAAA" } } }
    expect(verifyAuthData(odd, ctx()).otherSignatures).toEqual({})
  })
})

describe("predicates", () => {
  const check = (s: SignatureState): SignatureCheck => ({ keyId: "k", state: s, reason: "Trusted" })
  const verdict = (states: ReadonlyArray<SignatureState>, unsupportedAlgorithm = false): TrustVerdict => ({
    deviceSignature: check(states[0] ?? "Missing"),
    userIdentitySignature: check(states[1] ?? "Missing"),
    otherSignatures: Object.fromEntries(states.slice(2).map((s, i) => [`D${i}`, check(s)])),
    decryptionKey: "NoKeyStored",
    unsupportedAlgorithm,
  })
  it("isValidAndTrusted and isSigned for each state (isSigned can be true, unlike rust-sdk's signed())", () => {
    expect((["Missing", "Invalid", "ValidButNotTrusted", "ValidAndTrusted"] as const).map((s) => [isValidAndTrusted(check(s)), isSigned(check(s))])).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [true, true],
    ])
  })
  it("isTrusted: any ValidAndTrusted signer, never for an unsupported algorithm", () => {
    expect(isTrusted(verdict(["Missing", "ValidButNotTrusted", "Invalid"]))).toBe(false)
    expect(isTrusted(verdict(["Missing", "Missing", "Invalid", "ValidAndTrusted"]))).toBe(true)
    expect(isTrusted(verdict(["ValidAndTrusted"]))).toBe(true)
    expect(isTrusted(verdict(["ValidAndTrusted"], true))).toBe(false)
    expect(allChecks(verdict(["Missing", "Missing", "Invalid"]))).toHaveLength(3)
  })
})

describe("ownIdentityFrom", () => {
  it("accepts well-formed keys and checks the chain", () => {
    const identity = ownIdentityFrom(query({ crossSignOther: true }), USER)
    expect(Option.getOrThrow(identity.masterKey)).toBe(pub(master))
    expect(Option.getOrThrow(identity.selfSigningKey)).toBe(pub(ssk))
    expect(identity.devices.get("OTHER")).toEqual({ ed25519: Option.some(pub(other)), crossSigned: true })
    expect(identity.devices.get("DEV")?.crossSigned).toBe(false)
  })
  it("rejects a self-signing key the master did not sign, a master key with two keys, and the wrong usage", () => {
    expect(Option.isNone(ownIdentityFrom(query({ sskSignedByMaster: false }), USER).selfSigningKey)).toBe(true)
    const twoKeys = query()
    const broken = JSON.parse(JSON.stringify(twoKeys))
    broken.master_keys[USER].keys["ed25519:second"] = "second"
    expect(Option.isNone(ownIdentityFrom(broken, USER).masterKey)).toBe(true)
    const usage = JSON.parse(JSON.stringify(twoKeys))
    usage.master_keys[USER].usage = ["self_signing"]
    expect(Option.isNone(ownIdentityFrom(usage, USER).masterKey)).toBe(true)
  })
  it("another user's entries are not ours", () => {
    expect(ownIdentityFrom(query(), "@bob:localhost")).toEqual({ masterKey: Option.none(), selfSigningKey: Option.none(), devices: new Map() })
  })
})

function fail(): never {
  throw new Error("test: missing check")
}
