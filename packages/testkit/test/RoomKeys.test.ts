// Room keys over loopback HTTP: the three PUT/GET/DELETE forms, Synapse's replacement chain,
// etag/count rules, version checks and percent-encoded ids (PROTOCOL §1.3, §1.4, §2.2).
import { describe, expect, it } from "@effect/vitest"
import { clientFor, newUser, useServer, v3 } from "./support.js"

const ALG = "m.megolm_backup.v1.curve25519-aes-sha2"
const key = (fmi: number, fc: number, verified: boolean, tag = "x") => ({
  first_message_index: fmi,
  forwarded_count: fc,
  is_verified: verified,
  session_data: { ephemeral: "e", ciphertext: tag, mac: "m" },
})
const ROOM = "!room:localhost"
const SESSION = "ab/cd+ef=="
const enc = encodeURIComponent

describe("room keys", () => {
  const server = useServer()
  const setup = async (versions = 1) => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    for (let i = 0; i < versions; i++) await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: { public_key: `k${i}` } })
    return { user, api }
  }

  it("stores through all three PUT forms and counts every session", async () => {
    const { api } = await setup()
    expect((await api("PUT", v3(`/room_keys/keys/${enc(ROOM)}/${enc(SESSION)}?version=1`), key(0, 0, false))).body).toEqual({ etag: "1", count: 1 })
    expect((await api("PUT", v3(`/room_keys/keys/${enc(ROOM)}?version=1`), { sessions: { s2: key(0, 0, false) } })).body).toEqual({ etag: "2", count: 2 })
    const bulk = await api("PUT", v3("/room_keys/keys?version=1"), { rooms: { "!other:localhost": { sessions: { s3: key(1, 0, false), s4: key(2, 1, true) } } } })
    expect(bulk.body).toEqual({ etag: "3", count: 4 })
    const all = await api("GET", v3("/room_keys/keys?version=1"))
    expect(all.body.rooms[ROOM].sessions[SESSION]).toEqual(key(0, 0, false))
    expect(Object.keys(all.body.rooms["!other:localhost"].sessions).sort()).toEqual(["s3", "s4"])
    expect((await api("GET", v3("/room_keys/version"))).body).toMatchObject({ count: 4, etag: "3" })
  })

  it("decodes percent-encoded ids containing / + : !", async () => {
    const { api, user } = await setup()
    await api("PUT", v3(`/room_keys/keys/${enc(ROOM)}/${enc(SESSION)}?version=1`), key(0, 0, false))
    const stored = await server.current.admin.roomKeys(user.userId, "1")
    expect(stored.map((entry) => [entry.roomId, entry.sessionId])).toEqual([[ROOM, SESSION]])
    const one = await api("GET", v3(`/room_keys/keys/${enc(ROOM)}/${enc(SESSION)}?version=1`))
    expect(one.body).toEqual(key(0, 0, false))
    // js-sdk leaves `!` unencoded; it is the same room.
    expect((await api("GET", v3(`/room_keys/keys/!room%3Alocalhost?version=1`))).body.sessions[SESSION]).toBeDefined()
  })

  it("the r0 and unstable prefixes reach the same keys", async () => {
    const { api } = await setup()
    await api("PUT", `/_matrix/client/r0/room_keys/keys/${enc(ROOM)}/s?version=1`, key(0, 0, false))
    expect((await api("GET", `/_matrix/client/unstable/room_keys/keys/${enc(ROOM)}/s?version=1`)).body).toEqual(key(0, 0, false))
    expect((await api("DELETE", `/_matrix/client/r0/room_keys/keys?version=1`)).body).toEqual({ etag: "2", count: 0 })
  })

  it("GET shapes: empty backup, empty room, missing session", async () => {
    const { api } = await setup()
    expect((await api("GET", v3("/room_keys/keys?version=1"))).body).toEqual({ rooms: {} })
    expect((await api("GET", v3(`/room_keys/keys/${enc(ROOM)}?version=1`))).body).toEqual({ sessions: {} })
    expect((await api("GET", v3(`/room_keys/keys/${enc(ROOM)}/nope?version=1`))).body).toEqual({ errcode: "M_NOT_FOUND", error: "No room_keys found" })
  })

  it("follows Synapse's if/elif chain, not the spec's strict order", async () => {
    const { api, user } = await setup()
    const path = v3(`/room_keys/keys/${enc(ROOM)}/s?version=1`)
    const stored = async () => (await server.current.admin.roomKeys(user.userId, "1"))[0]?.data
    await api("PUT", path, key(1, 1, false, "first"))
    expect((await api("PUT", path, key(2, 1, false, "higher-fmi"))).body).toEqual({ etag: "1", count: 1 })
    expect((await api("PUT", path, key(5, 5, true, "verified"))).body.etag).toBe("2")
    expect((await stored())?.session_data).toMatchObject({ ciphertext: "verified" })
    // Divergence: an unverified key with a lower first_message_index replaces a verified one.
    await api("PUT", path, key(0, 9, false, "lower-fmi"))
    expect((await stored())?.session_data).toMatchObject({ ciphertext: "lower-fmi" })
    // Divergence: a higher first_message_index with a lower forwarded_count replaces too.
    expect((await api("PUT", path, key(3, 2, false, "lower-fc"))).body.etag).toBe("4")
    expect((await stored())?.session_data).toMatchObject({ ciphertext: "lower-fc" })
    // An exact tie keeps the stored copy and the etag.
    expect((await api("PUT", path, key(3, 2, false, "tie"))).body).toEqual({ etag: "4", count: 1 })
    expect((await stored())?.session_data).toMatchObject({ ciphertext: "lower-fc" })
  })

  it("403 M_WRONG_ROOM_KEYS_VERSION for an old live version, 404 otherwise", async () => {
    const { api } = await setup(2)
    const wrong = await api("PUT", v3("/room_keys/keys?version=1"), { rooms: {} })
    expect(wrong.status).toBe(403)
    expect(wrong.body).toEqual({ errcode: "M_WRONG_ROOM_KEYS_VERSION", error: "Wrong room_keys version", current_version: "2" })
    // Synapse compares strings: "02" names version 2 but is not "2".
    expect((await api("PUT", v3("/room_keys/keys?version=02"), { rooms: {} })).body.current_version).toBe("2")
    for (const version of ["3", "x"]) {
      const missing = await api("PUT", v3(`/room_keys/keys/r/s?version=${version}`), key(0, 0, false))
      expect(missing.body).toEqual({ errcode: "M_NOT_FOUND", error: `Version '${version}' not found` })
    }
    await api("DELETE", v3("/room_keys/version/2"))
    expect((await api("PUT", v3("/room_keys/keys/r/s?version=2"), key(0, 0, false))).status).toBe(404)
    expect((await api("PUT", v3("/room_keys/keys/r/s?version=1"), key(0, 0, false))).body).toEqual({ etag: "1", count: 1 })
  })

  it("404 when no version exists at all; GET and DELETE work on any live version", async () => {
    const { api } = await setup(0)
    expect((await api("PUT", v3("/room_keys/keys/r/s?version=1"), key(0, 0, false))).body.errcode).toBe("M_NOT_FOUND")
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: {} })
    await api("PUT", v3("/room_keys/keys/r/s?version=1"), key(0, 0, false))
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: {} })
    expect(Object.keys((await api("GET", v3("/room_keys/keys?version=1"))).body.rooms)).toEqual(["r"])
    expect((await api("DELETE", v3("/room_keys/keys/r/s?version=1"))).body).toEqual({ etag: "2", count: 0 })
    expect((await api("GET", v3("/room_keys/keys?version=9"))).body).toEqual({ errcode: "M_NOT_FOUND", error: "Unknown backup version" })
    expect((await api("DELETE", v3("/room_keys/keys?version=9"))).status).toBe(404)
  })

  it("400 M_MISSING_PARAM without ?version, 400 M_INVALID_PARAM for a non-boolean is_verified", async () => {
    const { api, user } = await setup()
    for (const method of ["GET", "PUT", "DELETE"]) {
      const reply = await api(method, v3("/room_keys/keys"), method === "PUT" ? { rooms: {} } : undefined)
      expect(reply.status).toBe(400)
      expect(reply.body.errcode).toBe("M_MISSING_PARAM")
    }
    await api("PUT", v3("/room_keys/keys/r/a?version=1"), key(5, 5, false, "old"))
    const bad = await api("PUT", v3("/room_keys/keys?version=1"), {
      rooms: { r: { sessions: { a: key(0, 0, false, "replaced"), b: key(0, 0, false), c: { ...key(0, 0, false), is_verified: 1 } } } },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errcode).toBe("M_INVALID_PARAM")
    // Synapse writes replacements one by one and batches inserts: "a" changed, "b" was never stored, etag unchanged.
    const stored = await server.current.admin.roomKeys(user.userId, "1")
    expect(stored.map((entry) => [entry.sessionId, entry.data.session_data])).toEqual([["a", key(0, 0, false, "replaced").session_data]])
    expect((await api("GET", v3("/room_keys/version"))).body.etag).toBe("1")
  })

  it("DELETE bumps the etag even when nothing matched; deleting a version deletes its keys", async () => {
    const { api, user } = await setup()
    await api("PUT", v3("/room_keys/keys?version=1"), { rooms: { r1: { sessions: { a: key(0, 0, false), b: key(0, 0, false) } }, r2: { sessions: { c: key(0, 0, false) } } } })
    expect((await api("DELETE", v3("/room_keys/keys/nothing?version=1"))).body).toEqual({ etag: "2", count: 3 })
    expect((await api("DELETE", v3("/room_keys/keys/r1?version=1"))).body).toEqual({ etag: "3", count: 1 })
    expect((await api("DELETE", v3("/room_keys/keys?version=1"))).body).toEqual({ etag: "4", count: 0 })
    await api("PUT", v3("/room_keys/keys/r/s?version=1"), key(0, 0, false))
    await api("DELETE", v3("/room_keys/version/1"))
    expect(await server.current.admin.roomKeys(user.userId, "1")).toEqual([])
  })

  it("auth: missing and unknown tokens; users never see each other's keys", async () => {
    const { api } = await setup()
    await api("PUT", v3("/room_keys/keys/r/s?version=1"), key(0, 0, false))
    const url = server.current.url
    const missing = await fetch(`${url}${v3("/room_keys/keys?version=1")}`)
    expect([missing.status, (await missing.json()).errcode]).toEqual([401, "M_MISSING_TOKEN"])
    const unknown = await fetch(`${url}${v3("/room_keys/keys?version=1")}`, { headers: { authorization: "Bearer nope" } })
    expect([unknown.status, (await unknown.json()).errcode]).toEqual([401, "M_UNKNOWN_TOKEN"])
    const other = clientFor(url, await newUser(server))
    expect((await other("GET", v3("/room_keys/keys?version=1"))).status).toBe(404)
  })
})
