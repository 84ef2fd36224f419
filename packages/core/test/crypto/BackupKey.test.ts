// The backup key module: public key, "belongs to this backup" on bytes, and the 4S secret form.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import {
  backupPublicKey,
  decodeBackupKeySecret,
  encodeBackupKeySecret,
  isBackupKeyFor,
  matchesBackup,
} from "../../src/crypto/BackupKey.js"
import { decodeBase64, encodeBase64 } from "../../src/schema/Base64.js"
import { decodeAuthData, type KeyBackupInfo, MEGOLM_BACKUP_V1_CURVE25519 } from "../../src/schema/BackupInfo.js"

// RFC 7748 §6.1 "Alice": https://www.rfc-editor.org/rfc/rfc7748#section-6.1 (also matrix-js-sdk's test backup key).
const ALICE_PRIVATE = Uint8Array.from(Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"))
const ALICE_PUBLIC = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo"
const bytes = (text: string) => decodeBase64(text) ?? new Uint8Array()

const backup = (algorithm: string, auth_data: Record<string, unknown>): KeyBackupInfo => ({
  algorithm,
  auth_data: decodeAuthData(algorithm, auth_data),
})

describe("BackupKey", () => {
  it("derives the RFC 7748 public key", () => {
    expect(encodeBase64(backupPublicKey(ALICE_PRIVATE))).toBe(ALICE_PUBLIC)
  })

  it("isBackupKeyFor: true for the pair, false for another key or a wrong length", () => {
    expect(isBackupKeyFor(ALICE_PRIVATE, bytes(ALICE_PUBLIC))).toBe(true)
    const other = ALICE_PRIVATE.slice()
    other[5] = (other[5] ?? 0) ^ 1 // not byte 0: X25519 clamps its low bits away
    expect(isBackupKeyFor(other, bytes(ALICE_PUBLIC))).toBe(false)
    expect(isBackupKeyFor(ALICE_PRIVATE.subarray(0, 31), bytes(ALICE_PUBLIC))).toBe(false)
    expect(isBackupKeyFor(ALICE_PRIVATE, bytes(ALICE_PUBLIC).subarray(0, 31))).toBe(false)
    expect(isBackupKeyFor(new Uint8Array(33), bytes(ALICE_PUBLIC))).toBe(false)
  })

  it("matchesBackup compares bytes, so a padded auth_data public_key matches too", () => {
    for (const public_key of [ALICE_PUBLIC, `${ALICE_PUBLIC}=`]) {
      expect(matchesBackup(ALICE_PRIVATE, backup(MEGOLM_BACKUP_V1_CURVE25519, { public_key }))).toEqual(Either.right(true))
    }
    const stranger = encodeBase64(backupPublicKey(new Uint8Array(32).fill(7)))
    expect(matchesBackup(ALICE_PRIVATE, backup(MEGOLM_BACKUP_V1_CURVE25519, { public_key: stranger }))).toEqual(Either.right(false))
  })

  it("matchesBackup is Left for a backup that is not curve25519 or whose auth_data does not parse", () => {
    expect(matchesBackup(ALICE_PRIVATE, backup("org.example.future", { public_key: ALICE_PUBLIC }))).toEqual(Either.left("UnsupportedAlgorithm"))
    expect(matchesBackup(ALICE_PRIVATE, backup(MEGOLM_BACKUP_V1_CURVE25519, { public_key: "short" }))).toEqual(Either.left("UnsupportedAlgorithm"))
  })

  it("the 4S secret is unpadded base64; decoding takes padded and unpadded and rejects other lengths", () => {
    const secret = encodeBackupKeySecret(ALICE_PRIVATE)
    expect(secret).toBe("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo")
    for (const text of [secret, `${secret}=`, ` ${secret}\n`]) {
      expect(Either.map(decodeBackupKeySecret(text), (key) => [...key])).toEqual(Either.right([...ALICE_PRIVATE]))
    }
    expect(decodeBackupKeySecret(encodeBase64(new Uint8Array(31)))).toEqual(Either.left("expected 32 bytes, got 31"))
    expect(decodeBackupKeySecret(encodeBase64(new Uint8Array(33)))).toEqual(Either.left("expected 32 bytes, got 33"))
    expect(Either.isLeft(decodeBackupKeySecret("not base64!"))).toBe(true)
  })
})
