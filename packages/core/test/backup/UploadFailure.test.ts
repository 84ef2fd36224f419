// How the upload loop reads a failed PUT: which answers make it re-check the version, which are only waited out,
// and what of the server's answer the state carries. The errors are the port's, as http-fetch maps the answers.
import { describe, expect, it } from "@effect/vitest"
import { isRejection, isServerError, sameAnswer, serverAnswer } from "../../src/backup/UploadFailure.js"
import { Forbidden, HomeserverError, RateLimited, TooLarge, TransportError, Unauthorized } from "../../src/services/HomeserverError.js"

const other = (status: number, errcode: string | undefined, message: string, reason: HomeserverError["reason"]) =>
  new HomeserverError({ reason, status, ...(errcode === undefined ? {} : { errcode }), message })

describe("upload failures", () => {
  it("conduwuit's 400 M_INVALID_PARAM, an unknown 4xx and an unreadable 403 are refusals that make the loop re-check", () => {
    expect(isRejection(other(400, "M_INVALID_PARAM", "You may only manipulate the most recently created version of the backup.", "BadRequest"))).toBe(true)
    expect(isRejection(other(404, "M_UNRECOGNIZED", "Unrecognized request", "Unsupported"))).toBe(true)
    expect(isRejection(new Forbidden({ errcode: "M_FORBIDDEN", message: "no" }))).toBe(true)
    expect(isRejection(other(418, undefined, "HTTP 418", "Unrecognised"))).toBe(true)
  })

  it("5xx, 429, 413, 401 and lost connections are not refusals; only 5xx count towards the two that re-check", () => {
    const dendrite = other(500, "M_UNKNOWN", "Internal server error", "ServerError")
    expect([isRejection(dendrite), isServerError(dendrite)]).toEqual([false, true])
    for (const error of [
      new RateLimited({ retryAfterMs: 10, message: "slow down" }),
      new TooLarge({ status: 413, message: "too large" }),
      new Unauthorized({ errcode: "M_UNKNOWN_TOKEN", softLogout: false, message: "who?" }),
      new TransportError({ reason: "Network", message: "down" }),
      new TransportError({ reason: "Aborted", message: "stopped" }),
    ]) {
      expect([error._tag, isRejection(error), isServerError(error)]).toEqual([error._tag, false, false])
    }
  })

  it("the state carries status, errcode and the server's words, cut short; the same answer means same status and errcode", () => {
    const refused = serverAnswer(other(400, "M_INVALID_PARAM", "x".repeat(500), "BadRequest"))
    expect(refused).toMatchObject({ status: 400, errcode: "M_INVALID_PARAM" })
    expect(refused.serverMessage).toHaveLength(200)
    expect(serverAnswer(other(502, undefined, "HTTP 502", "ServerError"))).toEqual({ status: 502, serverMessage: "HTTP 502" })
    expect(serverAnswer(new RateLimited({ message: "slow down" }))).toEqual({ status: 429, errcode: "M_LIMIT_EXCEEDED", serverMessage: "slow down" })
    expect(serverAnswer(new TransportError({ reason: "Timeout", message: "PUT /room_keys/keys: timed out" }))).toEqual({ serverMessage: "PUT /room_keys/keys: timed out" })
    expect(sameAnswer(refused, serverAnswer(other(400, "M_INVALID_PARAM", "other words", "BadRequest")))).toBe(true)
    expect(sameAnswer(refused, serverAnswer(other(400, "M_BAD_JSON", "bad", "BadRequest")))).toBe(false)
    expect(sameAnswer(refused, undefined)).toBe(false)
  })
})
