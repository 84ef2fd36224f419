import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { BackupVersion, RoomId, SessionId, UserId } from "../../src/schema/Ids.js"

const ok = <A, I>(schema: Schema.Schema<A, I>, value: unknown) => Either.isRight(Schema.decodeUnknownEither(schema)(value))

describe("Ids", () => {
  it("accepts real user ids and rejects non-ids", () => {
    expect(ok(UserId, "@alice:example.org")).toBe(true)
    expect(ok(UserId, "@_bridge.user=42:matrix.example.com:8448")).toBe(true)
    expect(ok(UserId, "alice:example.org")).toBe(false)
    expect(ok(UserId, "@alice")).toBe(false)
    expect(ok(UserId, "@:example.org")).toBe(false)
  })

  it("accepts room ids with and without a server part (room v12)", () => {
    expect(ok(RoomId, "!abc:example.org")).toBe(true)
    expect(ok(RoomId, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM")).toBe(true)
    expect(ok(RoomId, "#alias:example.org")).toBe(false)
    expect(ok(RoomId, "!")).toBe(false)
  })

  it("never rejects a session id with / or +", () => {
    expect(ok(SessionId, "ipdI6Zs/7DzFTEhiA2iGaMDfHkIYCleqXT6L+5e1/co")).toBe(true)
    expect(ok(SessionId, "")).toBe(false)
  })

  it("treats backup versions as opaque non-empty strings", () => {
    expect(ok(BackupVersion, "1")).toBe(true)
    expect(ok(BackupVersion, "opaque-v")).toBe(true)
    expect(ok(BackupVersion, 1)).toBe(false)
    expect(ok(BackupVersion, "")).toBe(false)
  })
})
