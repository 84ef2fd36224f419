// Backup versions over loopback HTTP: numbering, "current", update and delete rules (PROTOCOL §1.2, §2.1).
import { describe, expect, it } from "@effect/vitest"
import { clientFor, newUser, useServer, v3 } from "./support.js"

const ALG = "m.megolm_backup.v1.curve25519-aes-sha2"
const auth = (n: number) => ({ public_key: `pk${n}` })

describe("backup versions", () => {
  const server = useServer()

  it("404 when there is no backup, then versions count up from 1", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    const none = await api("GET", v3("/room_keys/version"))
    expect(none.status).toBe(404)
    expect(none.body).toEqual({ errcode: "M_NOT_FOUND", error: "No backup found" })
    expect((await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(1) })).body).toEqual({ version: "1" })
    expect((await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(2) })).body).toEqual({ version: "2" })
    const current = await api("GET", v3("/room_keys/version"))
    expect(current.body).toEqual({ algorithm: ALG, auth_data: auth(2), count: 0, etag: "0", version: "2" })
  })

  it("never reuses a deleted number, and an older live version becomes current again", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(1) })
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(2) })
    expect((await api("DELETE", v3("/room_keys/version/2"))).body).toEqual({})
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("1")
    expect((await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(3) })).body).toEqual({ version: "3" })
    expect((await api("DELETE", v3("/room_keys/version/2"))).status).toBe(200)
    expect((await api("DELETE", v3("/room_keys/version/9"))).body.errcode).toBe("M_NOT_FOUND")
    expect((await api("DELETE", v3("/room_keys/version/abc"))).status).toBe(404)
    expect((await api("GET", v3("/room_keys/version/2"))).body).toEqual({ errcode: "M_NOT_FOUND", error: "No backup found" })
    expect((await api("GET", v3("/room_keys/version/1"))).body.version).toBe("1")
  })

  it("PUT replaces auth_data only, checking version and algorithm", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(1) })
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(2) })
    const mismatch = await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: auth(9), version: "2" })
    expect(mismatch.body).toEqual({ errcode: "M_INVALID_PARAM", error: "Version in body does not match" })
    const wrongAlg = await api("PUT", v3("/room_keys/version/1"), { algorithm: "other", auth_data: auth(9) })
    expect(wrongAlg.body).toEqual({ errcode: "M_INVALID_PARAM", error: "Algorithm does not match" })
    expect((await api("PUT", v3("/room_keys/version/7"), { algorithm: ALG, auth_data: auth(9) })).status).toBe(404)
    // Any live version may be updated, not only the current one.
    expect((await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: auth(9), version: "1" })).body).toEqual({})
    expect((await api("GET", v3("/room_keys/version/1"))).body.auth_data).toEqual(auth(9))
    expect((await api("PUT", v3("/room_keys/version"), {})).status).toBe(405)
  })

  it("serves the r0 and unstable prefixes from the same store", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    await api("POST", "/_matrix/client/r0/room_keys/version", { algorithm: ALG, auth_data: auth(1) })
    expect((await api("GET", "/_matrix/client/unstable/room_keys/version")).body.version).toBe("1")
  })

  it("each user has their own versions", async () => {
    const alice = clientFor(server.current.url, await newUser(server, "alice"))
    const bob = clientFor(server.current.url, await newUser(server, "bob"))
    await alice("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(1) })
    expect((await bob("GET", v3("/room_keys/version"))).status).toBe(404)
    expect((await bob("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(2) })).body.version).toBe("1")
  })

  it("a missing algorithm is Synapse's 500, and resetBackupAsOtherDevice adds a version", async () => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    expect((await api("POST", v3("/room_keys/version"), { auth_data: {} })).body.errcode).toBe("M_UNKNOWN")
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: auth(1) })
    const version = await server.current.admin.resetBackupAsOtherDevice(user.userId)
    expect(version).toBe("2")
    const current = await api("GET", v3("/room_keys/version"))
    expect(current.body.version).toBe("2")
    expect(current.body.auth_data.public_key).toMatch(/^[A-Za-z0-9+/]{43}$/)
    const rows = await server.current.admin.backupVersions(user.userId)
    expect(rows.map((row) => [row.version, row.deleted])).toEqual([["1", false], ["2", false]])
  })
})
