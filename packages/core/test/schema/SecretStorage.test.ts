import { describe, expect, it } from "@effect/vitest"
import { Either, Option, Schema } from "effect"
import {
  AesHmacSha2EncryptedData,
  decodeDefaultKey,
  decodeEncryptedSecret,
  decodeKeyBackupEnabled,
  decodeKeyDescription,
  keyEventType,
  SecretStorageKeyDescription,
} from "../../src/schema/SecretStorage.js"

const b64 = (n: number, fill: number, pad: boolean) => {
  const text = Buffer.alloc(n, fill).toString("base64")
  return pad ? text : text.replace(/=+$/, "")
}

const description = (extra: object = {}) => ({
  algorithm: "m.secret_storage.v1.aes-hmac-sha2",
  name: "m.default",
  passphrase: { algorithm: "m.pbkdf2", salt: "MmMsAlty", iterations: 500000, bits: 256 },
  iv: b64(16, 7, false),
  mac: b64(32, 9, false),
  ...extra,
})

const some = <A>(either: Either.Either<Option.Option<A>, unknown>): A => Option.getOrThrow(Either.getOrThrow(either))

describe("SecretStorage", () => {
  it("decodes an aes-hmac-sha2 key description with a passphrase, unpadded (rust) and padded (js)", () => {
    for (const pad of [false, true]) {
      const decoded = some(decodeKeyDescription(description({ iv: b64(16, 7, pad), mac: b64(32, 9, pad) })))
      if (decoded._tag !== "AesHmacSha2") throw new Error("expected AesHmacSha2")
      expect(decoded.description.iv).toEqual(new Uint8Array(16).fill(7))
      expect(decoded.description.mac).toEqual(new Uint8Array(32).fill(9))
      expect(decoded.description.passphrase).toEqual({ algorithm: "m.pbkdf2", salt: "MmMsAlty", iterations: 500000, bits: 256 })
    }
  })

  it("treats name: null as absent and accepts a description without iv/mac", () => {
    const decoded = some(decodeKeyDescription({ algorithm: "m.secret_storage.v1.aes-hmac-sha2", name: null }))
    if (decoded._tag !== "AesHmacSha2") throw new Error("expected AesHmacSha2")
    expect("name" in decoded.description).toBe(false)
    expect(decoded.description.iv).toBeUndefined()
  })

  it("decodes an unknown key algorithm to Unknown and encodes it back verbatim", () => {
    const raw = { algorithm: "org.example.future", params: [1, 2] }
    const decoded = some(decodeKeyDescription(raw))
    expect(decoded).toEqual({ _tag: "Unknown", algorithm: "org.example.future", raw })
    expect(Schema.encodeSync(SecretStorageKeyDescription)(decoded)).toEqual(raw)
  })

  it("keeps an unknown passphrase algorithm", () => {
    const decoded = some(decodeKeyDescription(description({ passphrase: { algorithm: "m.argon2", memory: 1 } })))
    if (decoded._tag !== "AesHmacSha2") throw new Error("expected AesHmacSha2")
    expect(decoded.description.passphrase).toEqual({ algorithm: "m.argon2", memory: 1 })
  })

  it("rejects a wrong-length iv or mac (matrix-rust-sdk requires 16 and 32 bytes)", () => {
    expect(Either.isLeft(decodeKeyDescription(description({ iv: b64(15, 1, false) })))).toBe(true)
    expect(Either.isLeft(decodeKeyDescription(description({ mac: b64(31, 1, false) })))).toBe(true)
  })

  it("round-trips a key description", () => {
    const decoded = some(decodeKeyDescription(description()))
    expect(Schema.encodeSync(SecretStorageKeyDescription)(decoded)).toEqual(description())
  })

  it("reads deleted ({}) account data as absent", () => {
    expect(Either.getOrThrow(decodeDefaultKey({}))).toEqual(Option.none())
    expect(Either.getOrThrow(decodeKeyDescription({}))).toEqual(Option.none())
    expect(Either.getOrThrow(decodeEncryptedSecret({}))).toEqual(Option.none())
    expect(Either.getOrThrow(decodeKeyBackupEnabled({}))).toEqual(Option.none())
    expect(some(decodeDefaultKey({ key: "abc" }))).toEqual({ key: "abc" })
    expect(Either.isLeft(decodeDefaultKey({ key: 5 }))).toBe(true)
    expect(Either.isLeft(decodeDefaultKey("abc"))).toBe(true)
  })

  it("decodes an encrypted secret; one odd entry does not hide the others", () => {
    const entry = { iv: b64(16, 1, true), ciphertext: b64(44, 2, false), mac: b64(32, 3, false) }
    const secret = some(decodeEncryptedSecret({ encrypted: { good: entry, other: { foo: "bar" } } }))
    expect(Object.keys(secret.encrypted).sort()).toEqual(["good", "other"])
    const data = Schema.decodeUnknownSync(AesHmacSha2EncryptedData)(secret.encrypted.good)
    expect([data.iv.length, data.ciphertext.length, data.mac.length]).toEqual([16, 44, 32])
    expect(Either.isLeft(Schema.decodeUnknownEither(AesHmacSha2EncryptedData)(secret.encrypted.other))).toBe(true)
  })

  it("decodes m.key_backup and names key events", () => {
    expect(some(decodeKeyBackupEnabled({ enabled: false }))).toEqual({ enabled: false })
    expect(Either.isLeft(decodeKeyBackupEnabled({ enabled: "yes" }))).toBe(true)
    expect(keyEventType("abc")).toBe("m.secret_storage.key.abc")
  })
})
