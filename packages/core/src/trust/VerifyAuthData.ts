/**
 * Judges every signature on a backup's raw `auth_data` under our own user id (PROTOCOL.md §7.5): our device,
 * our master key, our other devices. Pure: the caller gathers the identity and local verification first.
 * Signatures of other users are ignored; non-Ed25519 key ids are skipped.
 */
import { Either, Option } from "effect"
import { verifyJsonSignature } from "../crypto/SignedJson.js"
import { decodeBase64 } from "../schema/Base64.js"
import type { JsonObject } from "../schema/Json.js"
import type { OwnIdentity } from "./OwnIdentity.js"
import type { SignatureCheck, SignatureReason, SignatureState, TrustVerdict } from "./TrustVerdict.js"

/** Everything the verdict depends on. */
export interface TrustContext {
  readonly userId: string
  readonly deviceId: string
  /** Our device's Ed25519 key, known locally (never taken from the server); "" when not known. */
  readonly deviceEd25519: string
  /** Our identity per `/keys/query`; None when the query failed. */
  readonly identity: Option.Option<OwnIdentity>
  /** The master key we know locally (held or verified), if any. */
  readonly localMasterKey: Option.Option<string>
  readonly ownIdentityVerified: boolean
  /** Devices verified locally (by the app). */
  readonly locallyVerified: ReadonlySet<string>
}

const check = (keyId: string, state: SignatureState, reason: SignatureReason): SignatureCheck => ({ keyId, state, reason })

/** Verifies one signature: `Missing` when absent, `Invalid` when malformed or wrong, else the `valid` verdict. */
const judge = (
  authData: JsonObject,
  userId: string,
  keyId: string,
  publicKey: string,
  valid: () => SignatureCheck,
): SignatureCheck => {
  const key = decodeBase64(publicKey)
  if (key === undefined) return check(keyId, "Invalid", "Malformed")
  return Either.match(verifyJsonSignature(authData, userId, keyId, key), {
    onRight: valid,
    onLeft: (error) =>
      error.reason === "Missing"
        ? check(keyId, "Missing", "NoSignature")
        : check(keyId, "Invalid", error.reason === "Malformed" ? "Malformed" : "BadSignature"),
  })
}

/** The key ids signed under our user id, Ed25519 only. */
export const ownSignatureKeyIds = (authData: JsonObject, userId: string): ReadonlyArray<string> => {
  const signatures = authData["signatures"]
  if (typeof signatures !== "object" || signatures === null || Array.isArray(signatures)) return []
  const mine: unknown = Reflect.get(signatures, userId)
  if (typeof mine !== "object" || mine === null || Array.isArray(mine)) return []
  return Object.keys(mine).filter((keyId) => keyId.startsWith("ed25519:") && keyId.length > "ed25519:".length)
}

const serverMaster = (ctx: TrustContext) => Option.flatMap(ctx.identity, (identity) => identity.masterKey)

/** True when the server's master key is the one we trust: ours locally, or verified without a local copy. */
export const isMasterTrusted = (ctx: TrustContext): boolean =>
  Option.match(serverMaster(ctx), {
    onNone: () => false,
    onSome: (server) =>
      Option.match(ctx.localMasterKey, { onNone: () => ctx.ownIdentityVerified, onSome: (local) => local === server }),
  })

const masterCheck = (authData: JsonObject, ctx: TrustContext): SignatureCheck => {
  const server = serverMaster(ctx)
  const local = ctx.localMasterKey
  if (Option.isSome(local)) {
    const keyId = `ed25519:${local.value}`
    const trusted = ctx.ownIdentityVerified
    const byLocal = judge(authData, ctx.userId, keyId, local.value, () =>
      check(keyId, trusted ? "ValidAndTrusted" : "ValidButNotTrusted", trusted ? "Trusted" : "IdentityNotVerified"),
    )
    if (byLocal.state !== "Missing" || Option.isNone(server) || server.value === local.value) return byLocal
    const otherId = `ed25519:${server.value}`
    return judge(authData, ctx.userId, otherId, server.value, () => check(otherId, "ValidButNotTrusted", "MasterKeyMismatch"))
  }
  if (Option.isNone(server)) {
    return check("ed25519:<master>", "Missing", Option.isNone(ctx.identity) ? "KeysQueryFailed" : "NoMasterKey")
  }
  const keyId = `ed25519:${server.value}`
  const trusted = isMasterTrusted(ctx)
  return judge(authData, ctx.userId, keyId, server.value, () =>
    check(keyId, trusted ? "ValidAndTrusted" : "ValidButNotTrusted", trusted ? "Trusted" : "IdentityNotVerified"),
  )
}

const otherDeviceCheck = (authData: JsonObject, ctx: TrustContext, deviceId: string): SignatureCheck => {
  const keyId = `ed25519:${deviceId}`
  if (Option.isNone(ctx.identity)) return check(keyId, "Missing", "KeysQueryFailed")
  const device = ctx.identity.value.devices.get(deviceId)
  if (device === undefined) return check(keyId, "Missing", "UnknownDevice")
  if (Option.isNone(device.ed25519)) return check(keyId, "Invalid", "DeviceKeysNotSelfSigned")
  const verified = ctx.locallyVerified.has(deviceId) || (device.crossSigned && isMasterTrusted(ctx))
  return judge(authData, ctx.userId, keyId, device.ed25519.value, () =>
    check(keyId, verified ? "ValidAndTrusted" : "ValidButNotTrusted", verified ? "Trusted" : "DeviceNotVerified"),
  )
}

/** The device ids of other devices of ours that signed (key ids that are not our device or a master key). */
export const otherSignerIds = (authData: JsonObject, ctx: TrustContext): ReadonlyArray<string> => {
  const masters = new Set([...Option.toArray(ctx.localMasterKey), ...Option.toArray(serverMaster(ctx))])
  return ownSignatureKeyIds(authData, ctx.userId)
    .map((keyId) => keyId.slice("ed25519:".length))
    .filter((id) => id !== ctx.deviceId && !masters.has(id))
}

/** The per-signer verdict (without the decryption-key part, which the caller adds). */
export const verifyAuthData = (
  authData: JsonObject,
  ctx: TrustContext,
): Pick<TrustVerdict, "deviceSignature" | "userIdentitySignature" | "otherSignatures"> => {
  const ownKeyId = `ed25519:${ctx.deviceId}`
  // Without our device key known locally its signature cannot be checked: trust then rests on other signers or the held key.
  const deviceSignature = ctx.deviceEd25519 === ""
    ? check(ownKeyId, "Missing", "DeviceKeyUnknown")
    : judge(authData, ctx.userId, ownKeyId, ctx.deviceEd25519, () => check(ownKeyId, "ValidAndTrusted", "Trusted"))
  const otherSignatures: Record<string, SignatureCheck> = {}
  for (const id of otherSignerIds(authData, ctx)) otherSignatures[id] = otherDeviceCheck(authData, ctx, id)
  return { deviceSignature, userIdentitySignature: masterCheck(authData, ctx), otherSignatures }
}
