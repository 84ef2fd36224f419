import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  KeysQueryRequest,
  KeysQueryResponse,
  SignaturesUploadRequest,
  SignaturesUploadResponse,
  WhoamiResponse,
} from "../../src/schema/DeviceKeys.js"
import { DeviceIdKey, UserIdKey } from "../../src/schema/Ids.js"
import { MatrixError } from "../../src/schema/MatrixError.js"

const ALICE = UserIdKey.make("@alice:example.com")

// Shapes of the spec's /keys/query example (keys.yaml), with an extra unknown field to prove it is kept.
const device = {
  user_id: "@alice:example.com",
  device_id: "JLAFKJWSCS",
  algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
  keys: {
    "curve25519:JLAFKJWSCS": "3C5BFWi2Y8MaVvjM8M22DBmh24PmgR0nPvJOIArzgyI",
    "ed25519:JLAFKJWSCS": "lEuiRJBit0IG6nUf5pUzWTUEsRVVe/HJkoKuEww9ULI",
  },
  signatures: {
    "@alice:example.com": {
      "ed25519:JLAFKJWSCS":
        "dSO80A01XiigH3uBiDVx/EjzaoycHcjq9lfQX0uWsqxl2giMIiSPR8a4d291W1ihKJL/a+myXS367WT6NAIcBA",
    },
  },
  unsigned: { device_display_name: "Alice's mobile phone" },
  "org.example.future_field": true,
}
const master = {
  user_id: "@alice:example.com",
  usage: ["master"],
  keys: { "ed25519:base64+master+public+key": "base64+master+public+key" },
}
const selfSigning = {
  user_id: "@alice:example.com",
  usage: ["self_signing"],
  keys: { "ed25519:base64+self+signing+public+key": "base64+self+signing+public+key" },
  signatures: { "@alice:example.com": { "ed25519:base64+master+public+key": "signature+of+self+signing+key" } },
}

describe("DeviceKeys", () => {
  it("decodes a /keys/query response and keeps unknown fields of signed objects", () => {
    const response = Schema.decodeUnknownSync(KeysQueryResponse)({
      failures: {},
      device_keys: { "@alice:example.com": { JLAFKJWSCS: device } },
      master_keys: { "@alice:example.com": master },
      self_signing_keys: { "@alice:example.com": selfSigning },
    })
    expect(response.device_keys?.[ALICE]?.[DeviceIdKey.make("JLAFKJWSCS")]).toEqual(device)
    expect(response.self_signing_keys?.[ALICE]).toEqual(selfSigning)
    expect(response.user_signing_keys).toBeUndefined()
  })

  it("rejects a device without keys", () => {
    const { keys: _, ...bad } = device
    const body = { device_keys: { "@alice:example.com": { JLAFKJWSCS: bad } } }
    expect(Either.isLeft(Schema.decodeUnknownEither(KeysQueryResponse)(body))).toBe(true)
  })

  it("encodes a query for all own devices", () => {
    const request = Schema.decodeUnknownSync(KeysQueryRequest)({ device_keys: { "@alice:example.com": [] } })
    expect(Schema.encodeSync(KeysQueryRequest)(request)).toEqual({ device_keys: { "@alice:example.com": [] } })
  })

  it("decodes signature upload bodies and whoami", () => {
    const upload = Schema.decodeUnknownSync(SignaturesUploadRequest)({ "@alice:example.com": { JLAFKJWSCS: device } })
    expect(upload[ALICE]?.JLAFKJWSCS).toEqual(device)
    const failures = { "@alice:example.com": { HIJKLMN: { errcode: "M_INVALID_SIGNATURE", error: "Invalid signature" } } }
    expect(Schema.decodeUnknownSync(SignaturesUploadResponse)({ failures }).failures).toEqual(failures)
    const whoami = Schema.decodeUnknownSync(WhoamiResponse)({ user_id: "@alice:example.com", device_id: "ABC" })
    expect(whoami).toEqual({ user_id: "@alice:example.com", device_id: "ABC" })
    expect(Either.isLeft(Schema.decodeUnknownEither(WhoamiResponse)({ user_id: "alice" }))).toBe(true)
  })
})

describe("MatrixError", () => {
  it("decodes the error bodies key backup sees", () => {
    const wrong = { errcode: "M_WRONG_ROOM_KEYS_VERSION", error: "Wrong room_keys version", current_version: "42" }
    expect(Schema.decodeUnknownSync(MatrixError)(wrong)).toEqual(wrong)
    const limited = Schema.decodeUnknownSync(MatrixError)({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 2000 })
    expect(limited.retry_after_ms).toBe(2000)
    const soft = Schema.decodeUnknownSync(MatrixError)({ errcode: "M_UNKNOWN_TOKEN", soft_logout: true, extra: 1 })
    expect(soft).toEqual({ errcode: "M_UNKNOWN_TOKEN", soft_logout: true, extra: 1 })
    expect(Either.isLeft(Schema.decodeUnknownEither(MatrixError)({ error: "no code" }))).toBe(true)
  })
})
