// Fixtures cross-checked against @matrix-backup/core (an independent implementation): seeded entries
// decrypt with core, broken entries fail the way they should, identities carry valid signatures.
import { describe, expect, it } from "@effect/vitest"
import { BackupInfo, Ed25519, MegolmBackupV1, SessionExport, SignedJson } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"
import { Either } from "effect"
import { randomBytes } from "node:crypto"
import {
  BROKEN_KINDS,
  backupPublicKeyFromPrivate,
  b64,
  brokenEntries,
  createUserWithCrossSigning,
  generateRoomKeys,
  seedBackup,
  signBackupAuthData,
  unb64,
} from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

const decrypt = (privateKey: Uint8Array, data: unknown): Either.Either<Uint8Array, unknown> => {
  if (typeof data !== "object" || data === null) return Either.left("not an object")
  const { ephemeral, ciphertext, mac } = data as Record<string, unknown>
  if (typeof ephemeral !== "string" || typeof ciphertext !== "string" || typeof mac !== "string") return Either.left("missing field")
  return MegolmBackupV1.decryptSessionData(privateKey, { ephemeral, ciphertext, mac })
}

describe("fixtures", () => {
  const server = useServer()

  it("backupPublicKeyFromPrivate agrees with core (RFC 7748 Alice key from PROTOCOL §3.2)", () => {
    const alice = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex")
    expect(backupPublicKeyFromPrivate(alice)).toBe("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo")
    const random = randomBytes(32)
    expect(backupPublicKeyFromPrivate(random)).toBe(b64(Curve25519.publicKeyFromPrivateKey(random)))
  })

  it("generateRoomKeys: realistic exports, session id = signing key, reproducible with a seed", () => {
    const keys = generateRoomKeys(20, { rooms: ["!a:localhost", "!b:localhost"], seed: "s", sharedHistory: true, firstKnownIndex: 3 })
    expect(generateRoomKeys(20, { rooms: ["!a:localhost", "!b:localhost"], seed: "s", sharedHistory: true, firstKnownIndex: 3 })).toEqual(keys)
    expect(new Set(keys.map((key) => key.session_id)).size).toBe(20)
    for (const key of keys) {
      expect(key.session_key).toHaveLength(220)
      const parsed = SessionExport.parseSessionExport(key.session_key)
      expect(Either.isRight(parsed)).toBe(true)
      if (Either.isRight(parsed)) {
        expect(parsed.right.firstKnownIndex).toBe(3)
        expect(b64(parsed.right.signingKey)).toBe(key.session_id)
      }
      expect(key).toMatchObject({ algorithm: "m.megolm.v1.aes-sha2", forwarding_curve25519_key_chain: [], "m.shared_history": true })
      expect(unb64(key.sender_key)).toHaveLength(32)
    }
    expect(keys.map((key) => key.room_id).filter((room) => room === "!a:localhost")).toHaveLength(10)
  })

  it("seedBackup entries decrypt with core to the plaintext without room_id/session_id", async () => {
    const privateKey = randomBytes(32)
    const { userId } = await createUserWithCrossSigning(server.current.url)
    const keys = generateRoomKeys(30, { firstKnownIndex: 7 })
    const seeded = await seedBackup(server.current, userId, { backupPrivateKey: privateKey, keys, ephemeralReuse: 4 })
    expect(seeded).toEqual({ version: "1", count: 30 })
    const stored = await server.current.admin.roomKeys(userId, "1")
    const byId = new Map(keys.map((key) => [key.session_id, key]))
    for (const entry of stored) {
      expect(entry.data).toMatchObject({ first_message_index: 7, forwarded_count: 0, is_verified: false })
      const plaintext = decrypt(privateKey, entry.data.session_data)
      expect(Either.isRight(plaintext)).toBe(true)
      if (Either.isLeft(plaintext)) continue
      const { room_id, session_id, ...expected } = byId.get(entry.sessionId) ?? {}
      expect(JSON.parse(new TextDecoder().decode(plaintext.right))).toEqual(expected)
      expect(entry.roomId).toBe(room_id)
      expect(session_id).toBe(entry.sessionId)
    }
    const version = await server.current.admin.backupVersions(userId)
    expect(version[0]).toMatchObject({ algorithm: BackupInfo.MEGOLM_BACKUP_V1_CURVE25519, auth_data: { public_key: backupPublicKeyFromPrivate(privateKey) } })
  })

  it("broken entries: each kind fails at the step it targets", () => {
    const privateKey = randomBytes(32)
    const entries = brokenEntries(backupPublicKeyFromPrivate(privateKey))
    expect(entries.map((entry) => entry.kind)).toEqual([...BROKEN_KINDS])
    const outcome = Object.fromEntries(entries.map((entry) => {
      const result = decrypt(privateKey, entry.data.session_data)
      if (Either.isLeft(result)) return [entry.kind, result.left instanceof MegolmBackupV1.BackupDecryptionError ? result.left.reason : "Shape"]
      const text = new TextDecoder().decode(result.right)
      try {
        const json = JSON.parse(text)
        return [entry.kind, json.algorithm !== "m.megolm.v1.aes-sha2" ? "Algorithm" : json.session_key === undefined ? "Fields" : Either.isLeft(SessionExport.parseSessionExport(json.session_key)) ? "SessionKey" : "ok"]
      } catch {
        return [entry.kind, "NotJson"]
      }
    }))
    expect(outcome).toEqual({
      badMac: "BadMac",
      badPadding: "BadPadding",
      notJson: "NotJson",
      missingFields: "Fields",
      unknownAlgorithm: "Algorithm",
      invalidSessionKey: "SessionKey",
      wrongKey: "BadMac",
      malformedSessionData: "Shape",
      sessionDataNotObject: "Shape",
    })
  })

  it("createUserWithCrossSigning: every signature verifies with core and /keys/query shows them merged", async () => {
    const identity = await createUserWithCrossSigning(server.current.url)
    const { userId, deviceId } = identity
    const query = await call(server.current.url, "POST", v3("/keys/query"), { token: identity.accessToken, body: { device_keys: { [userId]: [] } } })
    const device = query.body.device_keys[userId][deviceId]
    const master = query.body.master_keys[userId]
    const ssk = query.body.self_signing_keys[userId]
    const ok = (object: unknown, keyId: string, publicKey: string) => Either.isRight(SignedJson.verifyJsonSignature(object, userId, keyId, unb64(publicKey)))
    expect(ok(device, `ed25519:${deviceId}`, identity.deviceEd25519)).toBe(true)
    expect(ok(device, `ed25519:${identity.selfSigningPublicKey}`, identity.selfSigningPublicKey)).toBe(true)
    expect(ok(master, `ed25519:${deviceId}`, identity.deviceEd25519)).toBe(true)
    expect(ok(ssk, `ed25519:${identity.masterPublicKey}`, identity.masterPublicKey)).toBe(true)
    expect(query.body.user_signing_keys[userId].usage).toEqual(["user_signing"])
    expect(b64(Ed25519.ed25519PublicKeyFromSeed(identity.masterSeed))).toBe(identity.masterPublicKey)
    const authData = signBackupAuthData({ public_key: "abc" }, identity)
    expect(ok(authData, `ed25519:${deviceId}`, identity.deviceEd25519)).toBe(true)
    expect(ok(authData, `ed25519:${identity.masterPublicKey}`, identity.masterPublicKey)).toBe(true)
  })
})
