import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { BackupVersion } from "../../src/schema/Ids.js"
import { KeyBackupData } from "../../src/schema/KeyBackupData.js"
import { summarizeParseError } from "../../src/schema/ParseErrorSummary.js"
import { isHomeserverApiError, isTransient } from "../../src/services/HomeserverError.js"
import { fromResponse } from "../../src/services/HomeserverResponse.js"

const V = BackupVersion.make("3")
const keys = { roomKeys: true, version: V } as const
const other = { roomKeys: false } as const

describe("HomeserverResponse.fromResponse", () => {
  it("maps M_NOT_FOUND under /room_keys to BackupNotFound and elsewhere to NotFound", () => {
    const body = { errcode: "M_NOT_FOUND", error: "No backup found" }
    expect(fromResponse(404, body, keys)).toMatchObject({ _tag: "BackupNotFound", version: "3", message: "No backup found" })
    expect(fromResponse(404, body, other)).toMatchObject({ _tag: "HomeserverError", reason: "NotFound", status: 404 })
  })

  it("maps M_WRONG_ROOM_KEYS_VERSION with current_version", () => {
    const body = { errcode: "M_WRONG_ROOM_KEYS_VERSION", error: "Wrong room_keys version", current_version: "5" }
    expect(fromResponse(403, body, keys)).toMatchObject({ _tag: "WrongBackupVersion", currentVersion: "5" })
    expect(fromResponse(403, { errcode: "M_WRONG_ROOM_KEYS_VERSION" }, keys)).not.toHaveProperty("currentVersion")
  })

  it("maps 429 with and without retry_after_ms, clamping nonsense values", () => {
    expect(fromResponse(429, { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 1500 }, keys)).toMatchObject({
      _tag: "RateLimited",
      retryAfterMs: 1500,
    })
    expect(fromResponse(429, "Too many", keys)).toMatchObject({ _tag: "RateLimited" })
    expect(fromResponse(429, { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: -5 }, keys)).toMatchObject({ retryAfterMs: 0 })
    expect(fromResponse(429, { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 1e15 }, keys)).toMatchObject({
      retryAfterMs: 24 * 3600_000,
    })
  })

  it("maps token errors (with soft_logout) and any 401 to Unauthorized", () => {
    expect(fromResponse(401, { errcode: "M_MISSING_TOKEN" }, other)).toMatchObject({
      _tag: "Unauthorized",
      errcode: "M_MISSING_TOKEN",
      softLogout: false,
    })
    expect(fromResponse(401, { errcode: "M_UNKNOWN_TOKEN", soft_logout: true }, other)).toMatchObject({ softLogout: true })
    expect(fromResponse(401, { errcode: "M_USER_LOCKED" }, other)).toMatchObject({ errcode: "M_USER_LOCKED" })
    expect(fromResponse(401, "<html>", other)).toMatchObject({ _tag: "Unauthorized", errcode: "M_UNKNOWN_TOKEN" })
  })

  it("maps M_FORBIDDEN and M_GUEST_ACCESS_FORBIDDEN to Forbidden, M_TOO_LARGE and 413 to TooLarge", () => {
    expect(fromResponse(403, { errcode: "M_FORBIDDEN" }, other)._tag).toBe("Forbidden")
    expect(fromResponse(403, { errcode: "M_GUEST_ACCESS_FORBIDDEN" }, keys)._tag).toBe("Forbidden")
    expect(fromResponse(413, { errcode: "M_TOO_LARGE" }, keys)._tag).toBe("TooLarge")
    expect(fromResponse(413, "", keys)._tag).toBe("TooLarge")
  })

  it("maps the rest to HomeserverError reasons, keeping unknown errcodes as values", () => {
    const cases: Array<[number, unknown, string]> = [
      [400, { errcode: "M_INVALID_PARAM", error: "Algorithm does not match" }, "BadRequest"],
      [400, { errcode: "M_MISSING_PARAM" }, "BadRequest"],
      [400, { errcode: "M_BAD_JSON" }, "BadRequest"],
      [404, { errcode: "M_UNRECOGNIZED" }, "Unsupported"],
      [405, { errcode: "M_UNRECOGNIZED" }, "Unsupported"],
      [500, { errcode: "M_UNKNOWN", error: "Internal server error" }, "ServerError"],
      [502, "<html>Bad gateway</html>", "ServerError"],
      [418, { errcode: "ORG_EXAMPLE_TEAPOT" }, "Unrecognised"],
      [400, { errcode: "ORG_EXAMPLE_NEW" }, "Unrecognised"],
      [409, null, "Unrecognised"],
    ]
    for (const [status, body, reason] of cases) {
      const error = fromResponse(status, body, keys)
      expect(error).toMatchObject({ _tag: "HomeserverError", reason, status })
    }
    expect(fromResponse(418, { errcode: "ORG_EXAMPLE_TEAPOT", error: "short and stout" }, keys)).toMatchObject({
      errcode: "ORG_EXAMPLE_TEAPOT",
      message: "short and stout",
    })
  })

  it("classifies transient failures and recognises port errors", () => {
    expect(isTransient(fromResponse(503, {}, keys))).toBe(true)
    expect(isTransient(fromResponse(400, { errcode: "M_INVALID_PARAM" }, keys))).toBe(false)
    expect(isTransient(fromResponse(429, {}, keys))).toBe(false)
    expect(isHomeserverApiError(fromResponse(404, { errcode: "M_NOT_FOUND" }, keys))).toBe(true)
    expect(isHomeserverApiError(new Error("x"))).toBe(false)
  })
})

describe("summarizeParseError", () => {
  it("names paths and issue kinds but never values", () => {
    const secret = "c2VjcmV0LWNpcGhlcnRleHQtdGhhdC1tdXN0LW5vdC1sZWFr"
    const result = Schema.decodeUnknownEither(KeyBackupData)({
      first_message_index: secret,
      forwarded_count: 0,
      session_data: { ciphertext: secret },
    })
    if (Either.isRight(result)) throw new Error("expected a failure")
    const summary = summarizeParseError(result.left)
    expect(summary).toContain("first_message_index")
    expect(summary).not.toContain(secret)
  })
})
