// What clients send wrong: bad JSON, wrong shapes, oversized bodies, unknown paths and methods,
// and a handler defect, which becomes a 500 while the server keeps serving.
import { describe, expect, it } from "@effect/vitest"
import { registerUser, startFakeHomeserver } from "../src/index.js"
import { Homeserver } from "../src/server/Homeserver.js"
import { at } from "../src/server/Router.js"
import { call, useServer, v3 } from "./support.js"

describe("bad input", () => {
  const server = useServer()

  it("400 M_NOT_JSON for invalid JSON or an empty body, 400 M_BAD_JSON for a non-object", async () => {
    const user = await registerUser(server.current.url)
    const put = (raw: string) => call(server.current.url, "PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.x`), { token: user.accessToken, raw })
    expect((await put("{nope")).body).toEqual({ errcode: "M_NOT_JSON", error: "Content not JSON." })
    expect((await put("")).body.errcode).toBe("M_NOT_JSON")
    expect((await put("[1,2]")).body).toEqual({ errcode: "M_BAD_JSON", error: "Content must be a JSON object." })
    expect((await put("\"text\"")).status).toBe(400)
  })

  it("404 M_UNRECOGNIZED for unknown endpoints, 405 M_UNRECOGNIZED for a wrong method", async () => {
    const url = server.current.url
    expect(await call(url, "GET", v3("/no/such/thing"))).toMatchObject({ status: 404, body: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } })
    expect(await call(url, "GET", "/_matrix/client/v9/room_keys/version")).toMatchObject({ status: 404 })
    expect(await call(url, "DELETE", v3("/room_keys/version"))).toMatchObject({ status: 405, body: { errcode: "M_UNRECOGNIZED" } })
    expect(await call(url, "GET", "/_matrix/client/v3/room_keys/keys/%E0%A4%A")).toMatchObject({ status: 404 })
  })

  it("413 M_TOO_LARGE above the body limit, and the connection stays usable", async () => {
    const small = await startFakeHomeserver({ maxBodyBytes: 1024 })
    try {
      const user = await registerUser(small.url)
      const path = v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.big`)
      const big = await call(small.url, "PUT", path, { token: user.accessToken, body: { data: "x".repeat(5000) } })
      expect(big).toMatchObject({ status: 413, body: { errcode: "M_TOO_LARGE" } })
      expect((await call(small.url, "PUT", path, { token: user.accessToken, body: { data: "x".repeat(500) } })).status).toBe(200)
    } finally {
      await small.stop()
    }
  })

  it("shape errors in room keys are Synapse's: 500 for missing fields, and the server keeps serving", async () => {
    const user = await registerUser(server.current.url)
    const url = server.current.url
    await call(url, "POST", v3("/room_keys/version"), { token: user.accessToken, body: { algorithm: "a", auth_data: {} } })
    const missing = await call(url, "PUT", v3("/room_keys/keys?version=1"), { token: user.accessToken, body: { nothing: 1 } })
    expect(missing).toMatchObject({ status: 500, body: { errcode: "M_UNKNOWN" } })
    const partial = await call(url, "PUT", v3("/room_keys/keys/r/s?version=1"), { token: user.accessToken, body: { is_verified: false } })
    expect(partial.status).toBe(500)
    expect((await call(url, "GET", v3("/room_keys/version"), { token: user.accessToken })).body.count).toBe(0)
  })

  it("a handler defect becomes 500 M_UNKNOWN and the core keeps serving", async () => {
    const core = new Homeserver()
    core.setRoutes([at("GET", "/boom", () => { throw new TypeError("defect") }), at("GET", "/ok", () => ({ status: 200, headers: {}, body: new Uint8Array() }))], [])
    const errors: Array<unknown> = []
    const original = console.error
    console.error = (...args: Array<unknown>) => void errors.push(args)
    try {
      const boom = await core.handle({ method: "GET", url: "/boom", headers: {}, body: new Uint8Array() })
      expect(boom.status).toBe(500)
      expect(JSON.parse(new TextDecoder().decode(boom.body instanceof Uint8Array ? boom.body : new Uint8Array()))).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" })
      expect((await core.handle({ method: "GET", url: "/ok", headers: {}, body: new Uint8Array() })).status).toBe(200)
      expect(errors).toHaveLength(1)
    } finally {
      console.error = original
    }
  })

  it("CORS preflight is answered", async () => {
    const response = await fetch(`${server.current.url}${v3("/room_keys/version")}`, { method: "OPTIONS" })
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-allow-origin")).toBe("*")
  })
})
