// Canonical JSON and Ed25519 signature checks (node:crypto), used where Synapse verifies
// cross-signing uploads and signature uploads (docs/PROTOCOL.md §7.1–§7.2).
import { createPublicKey, verify } from "node:crypto"
import { isObject } from "./Http.js"

/** Canonical JSON: sorted keys, no whitespace. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isObject(value)) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`
  }
  return JSON.stringify(value)
}

const fromBase64 = (text: string): Buffer => Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64")

/** Verifies `signatures[userId][keyId]` on `object` with the unpadded-base64 Ed25519 `publicKey`. */
export const verifySignature = (object: Record<string, unknown>, userId: string, keyId: string, publicKey: string): boolean => {
  const signatures = object["signatures"]
  const byUser = isObject(signatures) ? signatures[userId] : undefined
  const signature = isObject(byUser) ? byUser[keyId] : undefined
  if (typeof signature !== "string") return false
  const { signatures: _signatures, unsigned: _unsigned, ...rest } = object
  try {
    const raw = fromBase64(publicKey)
    if (raw.byteLength !== 32) return false
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" })
    return verify(null, Buffer.from(canonicalJson(rest)), key, fromBase64(signature))
  } catch {
    return false
  }
}

/** The single `ed25519:<pub>` key of a cross-signing key object, if well-formed. */
export const crossSigningPublicKey = (key: Record<string, unknown>): { keyId: string; publicKey: string } | undefined => {
  const keys = key["keys"]
  if (!isObject(keys)) return undefined
  const entries = Object.entries(keys)
  const first = entries[0]
  if (entries.length !== 1 || first === undefined || typeof first[1] !== "string" || !first[0].startsWith("ed25519:")) return undefined
  return { keyId: first[0], publicKey: first[1] }
}

/** Merges the signatures of `incoming` into `stored` (both `{user: {keyId: sig}}` maps). */
export const mergeSignatures = (stored: unknown, incoming: unknown): Record<string, Record<string, unknown>> => {
  const merged: Record<string, Record<string, unknown>> = {}
  for (const source of [stored, incoming]) {
    if (!isObject(source)) continue
    for (const [userId, sigs] of Object.entries(source)) {
      if (isObject(sigs)) merged[userId] = { ...(merged[userId] ?? {}), ...sigs }
    }
  }
  return merged
}
