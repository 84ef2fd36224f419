import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { encodeBase64 } from "../../src/schema/Base64.js"
import {
  CreateBackupVersionResponse,
  KeyBackupInfo,
  MEGOLM_BACKUP_V1_AES,
  MSC3270_V1_AES,
  UpdateBackupVersionRequest,
} from "../../src/schema/BackupInfo.js"
import fixture from "./fixtures/js-sdk-backup.json" with { type: "json" }

const decode = Schema.decodeUnknownSync(KeyBackupInfo)
const PUBLIC_KEY = fixture.signedBackupData.auth_data.public_key
const PUBLIC_KEY_BYTES = Buffer.from(PUBLIC_KEY, "base64")

describe("KeyBackupInfo", () => {
  it("decodes js-sdk's signed curve25519 backup and keeps the raw auth_data", () => {
    const info = decode(fixture.signedBackupData)
    expect(info.version).toBe("1")
    expect(info.auth_data._tag).toBe("Curve25519")
    if (info.auth_data._tag !== "Curve25519") return
    expect(info.auth_data.public_key).toEqual(new Uint8Array(PUBLIC_KEY_BYTES))
    expect(info.auth_data.signatures?.["@alice:localhost"]?.["ed25519:test_device"]).toMatch(/^KDSN/)
    expect(info.auth_data.raw).toEqual(fixture.signedBackupData.auth_data)
  })

  it("decodes a full GET response (spec example shape) with count and etag", () => {
    const info = decode({
      algorithm: "m.megolm_backup.v1.curve25519-aes-sha2",
      auth_data: { public_key: PUBLIC_KEY, signatures: {} },
      count: 7,
      etag: "abcdefg",
      version: "4",
    })
    expect([info.count, info.etag, info.version]).toEqual([7, "abcdefg", "4"])
  })

  it("accepts a padded public key and keeps the padded raw value for signature checks", () => {
    const padded = Buffer.from(PUBLIC_KEY_BYTES).toString("base64")
    expect(padded.endsWith("=")).toBe(true)
    const info = decode({ algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: { public_key: padded } })
    expect(info.auth_data._tag).toBe("Curve25519")
    expect(info.auth_data.raw.public_key).toBe(padded)
  })

  it("keeps unknown auth_data fields and legacy passphrase fields", () => {
    const raw = {
      public_key: PUBLIC_KEY,
      private_key_salt: "abcdefghijklmnopqrstuvwxyz012345",
      private_key_iterations: 500000,
      private_key_bits: 256,
      "org.example.extra": { nested: [1, 2] },
    }
    const info = decode({ algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: raw })
    if (info.auth_data._tag !== "Curve25519") throw new Error("expected Curve25519")
    expect(info.auth_data.private_key_iterations).toBe(500000)
    expect(info.auth_data.private_key_salt).toBe(raw.private_key_salt)
    expect(info.auth_data.raw).toEqual(raw)
    expect(Schema.encodeSync(KeyBackupInfo)(info).auth_data).toEqual(raw)
  })

  it("recognises both MSC3270 draft 1 names as Aes256", () => {
    const iv = encodeBase64(new Uint8Array(16).fill(1))
    const mac = encodeBase64(new Uint8Array(32).fill(2))
    for (const algorithm of [MEGOLM_BACKUP_V1_AES, MSC3270_V1_AES]) {
      const info = decode({ algorithm, auth_data: { iv, mac } })
      expect(info.auth_data._tag).toBe("Aes256")
      if (info.auth_data._tag === "Aes256") expect(info.auth_data.mac).toEqual(new Uint8Array(32).fill(2))
    }
    expect(decode({ algorithm: MSC3270_V1_AES, auth_data: {} }).auth_data._tag).toBe("Aes256")
  })

  it("decodes any other algorithm to Unknown with the raw auth_data", () => {
    const raw = { iv: "x", ciphertext: "y" }
    const info = decode({ algorithm: "org.matrix.msc3270.v2.aes-hmac-sha2", auth_data: raw, version: "9" })
    expect(info.auth_data).toEqual({ _tag: "Unknown", reason: "UnknownAlgorithm", raw })
    expect(Schema.encodeSync(KeyBackupInfo)(info)).toEqual({
      algorithm: "org.matrix.msc3270.v2.aes-hmac-sha2",
      auth_data: raw,
      version: "9",
    })
  })

  it("turns malformed curve25519 auth_data into Unknown/MalformedAuthData instead of failing", () => {
    for (const auth_data of [{}, { public_key: "not base64!" }, { public_key: encodeBase64(new Uint8Array(31)) }]) {
      const info = decode({ algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data, version: "2" })
      expect(info.auth_data._tag).toBe("Unknown")
      if (info.auth_data._tag === "Unknown") {
        expect(info.auth_data.reason).toBe("MalformedAuthData")
        expect(info.auth_data.issue).toContain("public_key")
      }
      expect(info.version).toBe("2")
    }
  })

  it("fails only when the envelope itself is wrong", () => {
    const bad = [null, [], { auth_data: {} }, { algorithm: "a", auth_data: [] }, { algorithm: "a", auth_data: {}, count: -1 }]
    for (const body of bad) expect(Either.isLeft(Schema.decodeUnknownEither(KeyBackupInfo)(body))).toBe(true)
  })

  it("round-trips through encode and decode", () => {
    const info = decode(fixture.signedBackupData)
    expect(decode(Schema.encodeSync(KeyBackupInfo)(info))).toEqual(info)
  })

  it("decodes version bodies", () => {
    expect(Schema.decodeUnknownSync(CreateBackupVersionResponse)({ version: "12" }).version).toBe("12")
    expect(Either.isLeft(Schema.decodeUnknownEither(CreateBackupVersionResponse)({ version: 12 }))).toBe(true)
    const put = Schema.decodeUnknownSync(UpdateBackupVersionRequest)({
      algorithm: "m.megolm_backup.v1.curve25519-aes-sha2",
      auth_data: { public_key: PUBLIC_KEY },
      version: "3",
    })
    expect(put.version).toBe("3")
  })
})
