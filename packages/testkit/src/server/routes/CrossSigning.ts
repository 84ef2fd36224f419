// Cross-signing: `/keys/device_signing/upload` (user-interactive auth unless this is the first upload
// or the keys are unchanged, as Synapse does since MSC3967) and `/keys/signatures/upload`.
import type { CoreResponse, JsonObject } from "../Http.js"
import { MatrixError, isObject, json, stringAt } from "../Http.js"
import type { Route, RouteContext } from "../Router.js"
import { client } from "../Router.js"
import type { User } from "../State.js"
import { canonicalJson, crossSigningPublicKey, mergeSignatures, verifySignature } from "../Signing.js"
import { identifyUser, uiaChallenge } from "./Accounts.js"

type Usage = "master" | "self_signing" | "user_signing"
const FIELDS: ReadonlyArray<readonly [string, Usage]> = [["master_key", "master"], ["self_signing_key", "self_signing"], ["user_signing_key", "user_signing"]]

const checkKey = (key: JsonObject, user: User, usage: Usage, signer: { keyId: string; publicKey: string } | undefined): void => {
  const usages = key["usage"]
  if (key["user_id"] !== user.userId || !Array.isArray(usages) || !usages.includes(usage) || crossSigningPublicKey(key) === undefined) {
    throw new MatrixError(400, "M_INVALID_PARAM", `Invalid ${usage} key`)
  }
  if (signer !== undefined && !verifySignature(key, user.userId, signer.keyId, signer.publicKey)) {
    throw new MatrixError(400, "M_INVALID_SIGNATURE", `Invalid signature on ${usage} key`)
  }
}

const unchanged = (user: User, body: JsonObject): boolean =>
  FIELDS.every(([field, usage]) => {
    const given = body[field]
    return given === undefined || canonicalJson(given) === canonicalJson(user.crossSigning.get(usage))
  })

const uploadSigningKeys = (ctx: RouteContext): CoreResponse => {
  const { user } = ctx.auth()
  const body = ctx.body()
  if (user.crossSigning.has("master") && !unchanged(user, body)) {
    uiaChallenge(ctx.state, body["auth"], [["m.login.password"], ["m.login.dummy"]], (auth) =>
      stringAt(auth, "type") === "m.login.dummy" ||
      (identifyUser(ctx.state, auth)?.userId === user.userId && stringAt(auth, "password") === user.password && user.password !== undefined),
    )
  }
  const master = isObject(body["master_key"]) ? body["master_key"] : user.crossSigning.get("master")
  if (master === undefined) throw new MatrixError(400, "M_MISSING_PARAM", "No master key available to verify signature.")
  checkKey(master, user, "master", undefined)
  const signer = crossSigningPublicKey(master)
  const updates: Array<readonly [Usage, JsonObject]> = [["master", master]]
  for (const [field, usage] of FIELDS.slice(1)) {
    const key = body[field]
    if (!isObject(key)) continue
    checkKey(key, user, usage, signer)
    updates.push([usage, key])
  }
  for (const [usage, key] of updates) user.crossSigning.set(usage, key)
  user.deviceListPos = ctx.bump()
  return json(200, {})
}

/** The stored object a signature upload targets: a cross-signing key by public key, or a device. */
const target = (user: User, keyId: string): { object: JsonObject; store: (object: JsonObject) => void } | undefined => {
  for (const [usage, key] of user.crossSigning) {
    if (crossSigningPublicKey(key)?.publicKey === keyId) return { object: key, store: (object) => user.crossSigning.set(usage, object) }
  }
  const device = user.devices.get(keyId)
  const keys = device?.keys
  if (device === undefined || keys === undefined) return undefined
  return { object: keys, store: (object) => (device.keys = object) }
}

/** The signer's public key for `ed25519:<id>`: one of their cross-signing keys or a device key. */
const signingKey = (signer: User, keyId: string): string | undefined => {
  for (const key of signer.crossSigning.values()) {
    const pub = crossSigningPublicKey(key)
    if (pub?.keyId === keyId) return pub.publicKey
  }
  const deviceId = keyId.startsWith("ed25519:") ? keyId.slice(8) : undefined
  const keys = deviceId === undefined ? undefined : signer.devices.get(deviceId)?.keys
  const deviceKeys = keys === undefined ? undefined : keys["keys"]
  const value = isObject(deviceKeys) ? deviceKeys[keyId] : undefined
  return typeof value === "string" ? value : undefined
}

const failure = (status: number, errcode: string, message: string): JsonObject => ({ status, errcode, message })

const applySignature = (signer: User, owner: User, keyId: string, signed: JsonObject): JsonObject | undefined => {
  const found = target(owner, keyId)
  if (found === undefined) return failure(404, "M_NOT_FOUND", "Unknown key")
  const strip = ({ signatures: _s, unsigned: _u, ...rest }: JsonObject): string => canonicalJson(rest)
  if (strip(found.object) !== strip(signed)) return failure(400, "M_INVALID_PARAM", "Key does not match")
  const bySigner = isObject(signed["signatures"]) ? signed["signatures"][signer.userId] : undefined
  if (!isObject(bySigner)) return failure(400, "M_INVALID_SIGNATURE", "Missing signature")
  const accepted: Record<string, unknown> = {}
  for (const sigKeyId of Object.keys(bySigner)) {
    const pub = signingKey(signer, sigKeyId)
    if (pub === undefined || !verifySignature(signed, signer.userId, sigKeyId, pub)) return failure(400, "M_INVALID_SIGNATURE", "Invalid signature")
    accepted[sigKeyId] = bySigner[sigKeyId]
  }
  found.store({ ...found.object, signatures: mergeSignatures(found.object["signatures"], { [signer.userId]: accepted }) })
  return undefined
}

const uploadSignatures = (ctx: RouteContext): CoreResponse => {
  const { user: signer } = ctx.auth()
  const failures: Record<string, JsonObject> = {}
  for (const [userId, byKey] of Object.entries(ctx.body())) {
    const owner = ctx.state.users.get(userId)
    if (!isObject(byKey)) continue
    for (const [keyId, signed] of Object.entries(byKey)) {
      const problem = owner === undefined || !isObject(signed) ? failure(404, "M_NOT_FOUND", "Unknown user or key") : applySignature(signer, owner, keyId, signed)
      if (problem !== undefined) failures[userId] = { ...(failures[userId] ?? {}), [keyId]: problem }
      else if (owner !== undefined) owner.deviceListPos = ctx.bump()
    }
  }
  return json(200, { failures })
}

/** Routes for cross-signing. */
export const routes: ReadonlyArray<Route> = [
  ...client("POST", "/keys/device_signing/upload", uploadSigningKeys),
  ...client("POST", "/keys/signatures/upload", uploadSignatures),
]
