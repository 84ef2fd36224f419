/**
 * The detailed trust verdict of a backup for `status`: every signature on `auth_data` checked against the raw
 * JSON (this device's key, the account's other devices and master key from `/keys/query`), and whether the
 * locally held decryption key matches (PROTOCOL.md §7).
 */
import { type BackupInfo, Base64, Bytes, Curve25519, HomeserverApi, type Ids, SignedJson } from "@matrix-backup/core"
import { Effect, Either, Option, Predicate, Redacted } from "effect"
import type { DeviceState } from "../StateDir.js"

/** One signature found on `auth_data`. */
export interface SignatureVerdict {
  readonly keyId: string
  readonly signer: "thisDevice" | "ownDevice" | "masterKey" | "unknownKey"
  readonly valid: boolean
}

/** The verdict `status` prints. */
export interface TrustVerdict {
  readonly trusted: boolean
  readonly matchesDecryptionKey: boolean
  readonly signatures: ReadonlyArray<SignatureVerdict>
  readonly reason: string
}

const keyIdsOf = (raw: Record<string, unknown>, userId: string): ReadonlyArray<string> => {
  const signatures = raw["signatures"]
  if (!Predicate.isRecord(signatures)) return []
  const mine = signatures[userId]
  return Predicate.isRecord(mine) ? Object.keys(mine) : []
}

const verifies = (raw: unknown, userId: string, keyId: string, publicKey: string | undefined) => {
  const bytes = publicKey === undefined ? undefined : Base64.decodeBase64(publicKey)
  return bytes !== undefined && Either.isRight(SignedJson.verifyJsonSignature(raw, userId, keyId, bytes))
}

/** Public keys of the account's devices and master key, by key id; empty if `/keys/query` fails. */
const accountKeys = (userId: Ids.UserId) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi.HomeserverApi
    const answer = yield* Effect.option(api.queryKeys({ device_keys: { [userId]: [] } } as never))
    const keys = new Map<string, { key: string; kind: "ownDevice" | "masterKey" }>()
    if (Option.isNone(answer)) return keys
    for (const device of Object.values(answer.value.device_keys?.[userId] ?? {})) {
      const id = `ed25519:${device.device_id}`
      const key = device.keys[id]
      if (key !== undefined) keys.set(id, { key, kind: "ownDevice" })
    }
    for (const [id, key] of Object.entries(answer.value.master_keys?.[userId]?.keys ?? {})) keys.set(id, { key, kind: "masterKey" })
    return keys
  })

/** Checks every signature and the local key; trusted = signed by this device, or the local key matches. */
export const verdict = (
  info: BackupInfo.KeyBackupInfo,
  device: DeviceState,
  localKey: Option.Option<Redacted.Redacted<Uint8Array>>,
): Effect.Effect<TrustVerdict, never, HomeserverApi.HomeserverApi> =>
  Effect.gen(function* () {
    const raw = info.auth_data.raw
    const others = yield* accountKeys(device.userId as Ids.UserId)
    const own = `ed25519:${device.deviceId}`
    const signatures = keyIdsOf(raw, device.userId).map((keyId): SignatureVerdict => {
      if (keyId === own) return { keyId, signer: "thisDevice", valid: verifies(raw, device.userId, keyId, device.ed25519) }
      const known = others.get(keyId)
      if (known === undefined) return { keyId, signer: "unknownKey", valid: false }
      return { keyId, signer: known.kind, valid: verifies(raw, device.userId, keyId, known.key) }
    })
    const matchesDecryptionKey =
      info.auth_data._tag === "Curve25519" &&
      Option.isSome(localKey) &&
      Bytes.constantTimeEqual(Curve25519.publicKeyFromPrivateKey(Redacted.value(localKey.value)), info.auth_data.public_key)
    const signedByUs = signatures.some((s) => s.signer === "thisDevice" && s.valid)
    const trusted = signedByUs || matchesDecryptionKey
    const reason = signedByUs
      ? "Signed by this device"
      : matchesDecryptionKey
        ? "Its public key matches the decryption key this device holds"
        : signatures.some((s) => s.valid)
          ? "Signed only by keys this device has not verified"
          : "No valid signature this device can check, and no matching decryption key"
    return { trusted, matchesDecryptionKey, signatures, reason }
  })
