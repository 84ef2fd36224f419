/**
 * Our own cross-signing identity and devices as `/keys/query` reports them (PROTOCOL.md §7.4), with every
 * signature checked: device keys self-signed, the self-signing key signed by the master key, devices cross-signed.
 */
import { Either, Option } from "effect"
import { verifyJsonSignature } from "../crypto/SignedJson.js"
import { decodeBase64 } from "../schema/Base64.js"
import type { CrossSigningKey, DeviceKeys, KeysQueryResponse } from "../schema/DeviceKeys.js"
import { UserIdKey } from "../schema/Ids.js"

/** One of our devices as the server lists it. */
export interface OwnDevice {
  /** The device's Ed25519 key, only when its device keys carry a valid self-signature by it. */
  readonly ed25519: Option.Option<string>
  /** Signed by our self-signing key, which is signed by the server's master key. */
  readonly crossSigned: boolean
}

/** What the server says about our identity. */
export interface OwnIdentity {
  /** The master public key (unpadded base64), when a well-formed master key is published. */
  readonly masterKey: Option.Option<string>
  /** The self-signing public key, only when it is well formed and signed by `masterKey`. */
  readonly selfSigningKey: Option.Option<string>
  readonly devices: ReadonlyMap<string, OwnDevice>
}

/** An empty identity (nothing published). */
export const emptyIdentity: OwnIdentity = { masterKey: Option.none(), selfSigningKey: Option.none(), devices: new Map() }

/** True iff `signatures[userId][keyId]` on `object` verifies with `publicKey` (unpadded base64). */
export const hasValidSignature = (object: unknown, userId: string, keyId: string, publicKey: string): boolean => {
  const key = decodeBase64(publicKey)
  return key !== undefined && Either.isRight(verifyJsonSignature(object, userId, keyId, key))
}

/** The single Ed25519 key of a cross-signing key with this usage and owner, if it is well formed. */
export const crossSigningPublicKey = (key: CrossSigningKey | undefined, userId: string, usage: string): Option.Option<string> => {
  if (key === undefined || key.user_id !== userId || !key.usage.includes(usage)) return Option.none()
  const entries = Object.entries(key.keys)
  const only = entries.length === 1 ? entries[0] : undefined
  if (only === undefined) return Option.none()
  const [keyId, publicKey] = only
  const ok = keyId === `ed25519:${publicKey}` && decodeBase64(publicKey)?.length === 32
  return ok ? Option.some(publicKey) : Option.none()
}

/** The device's Ed25519 key if the device keys are its own and self-signed by that key. */
export const selfSignedEd25519 = (device: DeviceKeys, userId: string, deviceId: string): Option.Option<string> => {
  if (device.user_id !== userId || device.device_id !== deviceId) return Option.none()
  const keyId = `ed25519:${deviceId}`
  const key = device.keys[keyId]
  return key !== undefined && hasValidSignature(device, userId, keyId, key) ? Option.some(key) : Option.none()
}

/** Reads and checks our identity from a `/keys/query` answer for our own user. */
export const ownIdentityFrom = (response: KeysQueryResponse, userId: string): OwnIdentity => {
  const user = UserIdKey.make(userId)
  const masterKey = crossSigningPublicKey(response.master_keys?.[user], userId, "master")
  const sskObject = response.self_signing_keys?.[user]
  const selfSigningKey = Option.filter(crossSigningPublicKey(sskObject, userId, "self_signing"), () =>
    Option.match(masterKey, {
      onNone: () => false,
      onSome: (master) => hasValidSignature(sskObject, userId, `ed25519:${master}`, master),
    }),
  )
  const devices = new Map<string, OwnDevice>()
  for (const [deviceId, device] of Object.entries(response.device_keys?.[user] ?? {})) {
    const ed25519 = selfSignedEd25519(device, userId, deviceId)
    const crossSigned =
      Option.isSome(ed25519) &&
      Option.match(selfSigningKey, {
        onNone: () => false,
        onSome: (ssk) => hasValidSignature(device, userId, `ed25519:${ssk}`, ssk),
      })
    devices.set(deviceId, { ed25519, crossSigned })
  }
  return { masterKey, selfSigningKey, devices }
}
