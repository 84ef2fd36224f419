// Server profiles over loopback HTTP: each difference from Synapse a profile imitates, next to what
// Synapse answers to the same requests (README "Server profiles" names the source of each).
import { describe, expect, it } from "@effect/vitest"
import type { ProfileName, ServerProfile } from "../src/index.js"
import { PROFILES, profileNamed } from "../src/index.js"
import { clientFor, newUser, useServer, v3 } from "./support.js"

const ALG = "m.megolm_backup.v1.curve25519-aes-sha2"
const key = (fmi: number, tag = "x") => ({
  first_message_index: fmi,
  forwarded_count: 0,
  is_verified: false,
  session_data: { ephemeral: "e", ciphertext: tag, mac: "m" },
})
const bulk = (sessionId: string, fmi: number, tag = "x") => ({ rooms: { "!r:localhost": { sessions: { [sessionId]: key(fmi, tag) } } } })

/** A fresh server of `profile` per test, and a user with `versions` backup versions. */
const withProfile = (profile: ProfileName | ServerProfile) => {
  const server = useServer({ profile })
  const setup = async (versions: number) => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    for (let i = 1; i <= versions; i++) await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: { public_key: `k${i}` } })
    return { api, user, admin: server.current.admin }
  }
  return Object.assign(async (versions: number) => (await setup(versions)).api, { withUser: setup })
}

describe("synapse profile (the default)", () => {
  const setup = withProfile("synapse")

  it("wrong version is 403 M_WRONG_ROOM_KEYS_VERSION; a deleted version reads as 404", async () => {
    const api = await setup(2)
    const wrong = await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    expect([wrong.status, wrong.body]).toEqual([403, { errcode: "M_WRONG_ROOM_KEYS_VERSION", error: "Wrong room_keys version", current_version: "2" }])
    await api("DELETE", v3("/room_keys/version/2"))
    expect((await api("GET", v3("/room_keys/keys?version=2"))).status).toBe(404)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("1")
  })
})

describe("conduwuit profile", () => {
  const setup = withProfile("conduwuit")

  it("an upload to any version but the latest is 400 M_INVALID_PARAM, known or not", async () => {
    const api = await setup(2)
    for (const version of ["1", "7"]) {
      const wrong = await api("PUT", v3(`/room_keys/keys?version=${version}`), bulk("s", 0))
      expect([wrong.status, wrong.body.errcode]).toEqual([400, "M_INVALID_PARAM"])
      expect(wrong.body.current_version).toBeUndefined()
    }
  })

  it("a deleted or unknown version reads as 200 with no rooms; the previous version becomes current", async () => {
    const api = await setup(2)
    await api("PUT", v3("/room_keys/keys?version=2"), bulk("s", 0))
    await api("DELETE", v3("/room_keys/version/2"))
    expect([(await api("GET", v3("/room_keys/keys?version=2"))).status, (await api("GET", v3("/room_keys/keys?version=2"))).body]).toEqual([200, { rooms: {} }])
    expect((await api("GET", v3("/room_keys/keys/!r:localhost?version=9"))).body).toEqual({ sessions: {} })
    expect((await api("GET", v3("/room_keys/version/2"))).status).toBe(404)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("1")
  })

  it("with no backup left, an upload to the deleted version is 404: the latest check passes, storing needs the version", async () => {
    const api = await setup(1)
    await api("DELETE", v3("/room_keys/version/1"))
    const put = await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    expect([put.status, put.body.errcode]).toEqual([404, "M_NOT_FOUND"])
    expect((await api("GET", v3("/room_keys/keys?version=1"))).body).toEqual({ rooms: {} })
    expect((await api("PUT", v3("/room_keys/keys?version=7"), bulk("s", 0))).status).toBe(404)
  })

  it("a read of a deleted version shows the keys stored under its id (an upload racing the delete), the version itself 404", async () => {
    const { api, user, admin } = await setup.withUser(1)
    await api("DELETE", v3("/room_keys/version/1"))
    const data = { first_message_index: 0, forwarded_count: 0, is_verified: false, session_data: { ephemeral: "e", ciphertext: "late", mac: "m" } }
    await admin.insertRoomKeys(user.userId, "1", [{ roomId: "!r:localhost", sessionId: "s", data }])
    expect((await api("GET", v3("/room_keys/keys?version=1"))).body).toEqual({ rooms: { "!r:localhost": { sessions: { s: data } } } })
    expect((await api("GET", v3("/room_keys/keys/!r:localhost/s?version=1"))).status).toBe(200)
    expect((await api("GET", v3("/room_keys/version/1"))).status).toBe(404)
  })

  it("the better-key rule holds only for the per-session PUT; bulk and per-room PUTs overwrite", async () => {
    const api = await setup(1)
    await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0, "good"))
    await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 5, "worse"))
    expect((await api("GET", v3("/room_keys/keys/!r:localhost/s?version=1"))).body.session_data.ciphertext).toBe("worse")
    await api("PUT", v3("/room_keys/keys/!r:localhost/s?version=1"), key(9, "worst"))
    expect((await api("GET", v3("/room_keys/keys/!r:localhost/s?version=1"))).body.session_data.ciphertext).toBe("worse")
  })

  it("etag is a server-wide counter that also moves when auth_data changes", async () => {
    const api = await setup(2)
    const before = (await api("GET", v3("/room_keys/version/1"))).body.etag
    await api("PUT", v3("/room_keys/keys?version=2"), bulk("s", 0))
    await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k9" } })
    const after = (await api("GET", v3("/room_keys/version/1"))).body.etag
    expect(Number(after)).toBeGreaterThan(Number(before) + 1)
  })

  it('"latest" is the highest version in string order: 9 comes after 10', async () => {
    const api = await setup(10)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("9")
    const wrong = await api("PUT", v3("/room_keys/keys?version=10"), bulk("s", 0))
    expect(wrong.status).toBe(400)
  })
})

describe("tuwunel profile", () => {
  const setup = withProfile("tuwunel")

  it("wrong version is 400 M_WRONG_ROOM_KEYS_VERSION; latest is the highest number, an upload's version compares as a string", async () => {
    const api = await setup(10)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("10")
    const wrong = await api("PUT", v3("/room_keys/keys?version=9"), bulk("s", 0))
    expect([wrong.status, wrong.body.errcode, wrong.body.current_version]).toEqual([400, "M_WRONG_ROOM_KEYS_VERSION", "10"])
    expect((await api("PUT", v3("/room_keys/keys?version=010"), bulk("s", 0))).status).toBe(400)
    expect((await api("PUT", v3("/room_keys/keys?version=10"), bulk("s", 0))).status).toBe(200)
    expect((await api("GET", v3("/room_keys/keys?version=010"))).body).toEqual({ rooms: {} })
    expect((await api("GET", v3("/room_keys/keys?version=3"))).body).toEqual({ rooms: {} })
  })
})

describe("dendrite profile", () => {
  const setup = withProfile("dendrite")

  it('"latest" counts deleted versions: deleting it gives 404 with no fallback, and uploads to it get 500', async () => {
    const api = await setup(2)
    await api("DELETE", v3("/room_keys/version/2"))
    const latest = await api("GET", v3("/room_keys/version"))
    expect([latest.status, latest.body.errcode]).toEqual([404, "M_NOT_FOUND"])
    expect((await api("GET", v3("/room_keys/version/1"))).status).toBe(200)
    expect((await api("PUT", v3("/room_keys/keys?version=2"), bulk("s", 0))).status).toBe(500)
    expect((await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))).status).toBe(403)
  })

  it("has no DELETE /room_keys/keys routes, starts the etag at the empty string and skips the algorithm check", async () => {
    const api = await setup(1)
    expect((await api("GET", v3("/room_keys/version"))).body.etag).toBe("")
    for (const path of ["/room_keys/keys?version=1", "/room_keys/keys/!r:localhost?version=1", "/room_keys/keys/!r:localhost/s?version=1"]) {
      expect((await api("DELETE", v3(path))).body.errcode).toBe("M_UNRECOGNIZED")
    }
    expect((await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))).body.etag).toBe("1")
    expect((await api("PUT", v3("/room_keys/version/1"), { algorithm: "other", auth_data: {} })).status).toBe(200)
  })
})

describe("palpo profile", () => {
  const setup = withProfile("palpo")

  it("etag does not move when keys are added, and count stays stale until the version is updated", async () => {
    const api = await setup(1)
    const put = await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    expect(put.body).toEqual({ etag: "0", count: 0 })
    expect((await api("GET", v3("/room_keys/version"))).body).toMatchObject({ etag: "0", count: 0 })
    expect((await api("GET", v3("/room_keys/keys/!r:localhost/s?version=1"))).status).toBe(200)
    await api("POST", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1" } })
    expect((await api("GET", v3("/room_keys/version"))).body.count).toBe(1)
  })

  it("the version update is served on POST only, in place; a PUT is 405 M_UNRECOGNIZED and changes nothing", async () => {
    const api = await setup(1)
    const update = { algorithm: ALG, auth_data: { public_key: "k1", signatures: { "@u:localhost": { "ed25519:D": "s" } } }, version: "1" }
    const put = await api("PUT", v3("/room_keys/version/1"), update)
    expect([put.status, put.body.errcode]).toEqual([405, "M_UNRECOGNIZED"])
    expect((await api("GET", v3("/room_keys/version"))).body).toMatchObject({ version: "1", auth_data: { public_key: "k1" } })
    expect((await api("GET", v3("/room_keys/version"))).body.auth_data.signatures).toBeUndefined()
    const post = await api("POST", v3("/room_keys/version/1"), update)
    expect([post.status, post.body]).toEqual([200, {}])
    expect((await api("GET", v3("/room_keys/version"))).body).toMatchObject({ version: "1", auth_data: update.auth_data })
    // update_backup does not compare the body's algorithm with the stored one.
    expect((await api("POST", v3("/room_keys/version/1"), { algorithm: "other", auth_data: {} })).status).toBe(200)
  })
})

describe("palpo profile: versions", () => {
  const setup = withProfile("palpo")

  it("wrong version is 400 M_INVALID_PARAM; versions are integers; a deleted version reads as 200 with no rooms", async () => {
    const api = await setup(2)
    const wrong = await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    expect([wrong.status, wrong.body.errcode, wrong.body.current_version]).toEqual([400, "M_INVALID_PARAM", undefined])
    expect((await api("PUT", v3("/room_keys/keys?version=02"), bulk("s", 0))).status).toBe(200)
    await api("DELETE", v3("/room_keys/version/2"))
    expect([(await api("GET", v3("/room_keys/keys?version=2"))).status, (await api("GET", v3("/room_keys/keys?version=2"))).body]).toEqual([200, { rooms: {} }])
    expect((await api("GET", v3("/room_keys/version/2"))).status).toBe(404)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("1")
  })
})

describe("palpo-legacy profile (Palpo 0.1.1–0.3.0)", () => {
  const setup = withProfile("palpo-legacy")

  it("an update of version 1 makes version 2 from the body, current and empty; version 1 keeps its keys and stays live", async () => {
    const { api, user, admin } = await setup.withUser(1)
    await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    const put = await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1", signatures: {} }, version: "1" })
    expect([put.status, put.body.errcode]).toEqual([405, "M_UNRECOGNIZED"])
    const post = await api("POST", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1", signatures: {} }, version: "1" })
    expect([post.status, post.body]).toEqual([200, {}])
    expect((await api("GET", v3("/room_keys/version"))).body).toMatchObject({ version: "2", count: 0, auth_data: { public_key: "k1", signatures: {} } })
    expect((await api("GET", v3("/room_keys/version/1"))).body).toMatchObject({ version: "1", auth_data: { public_key: "k1" } })
    expect(await admin.roomKeys(user.userId, "1")).toHaveLength(1)
    expect((await api("PUT", v3("/room_keys/keys?version=1"), bulk("t", 0))).status).toBe(400)
  })

  it("the path's version is never read: an update of a deleted or unknown version mints one too", async () => {
    const api = await setup(1)
    await api("DELETE", v3("/room_keys/version/1"))
    expect((await api("POST", v3("/room_keys/version/9"), { algorithm: ALG, auth_data: { public_key: "k9" } })).status).toBe(200)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("2")
  })
})

describe("the update method on the other profiles", () => {
  const setup = withProfile("synapse")

  it("POST /room_keys/version/{v} is 405 M_UNRECOGNIZED", async () => {
    const api = await setup(1)
    const post = await api("POST", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1" } })
    expect([post.status, post.body.errcode]).toEqual([405, "M_UNRECOGNIZED"])
  })
})

describe("palpo-legacy with the update taken on PUT", () => {
  const setup = withProfile({ ...profileNamed("palpo-legacy"), versionUpdateMethod: "PUT" })

  it("PUT mints a new current version; POST is 405", async () => {
    const api = await setup(1)
    expect((await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1" }, version: "1" })).status).toBe(200)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("2")
    expect((await api("POST", v3("/room_keys/version/2"), { algorithm: ALG, auth_data: { public_key: "k1" } })).status).toBe(405)
  })
})

describe("palpo numbering by creation time (versionNumbers: creationMillis)", () => {
  const setup = withProfile({ ...PROFILES.palpo, versionNumbers: "creationMillis" })

  it("a version's number is the time it was made in milliseconds, above the user's previous one", async () => {
    const before = Date.now()
    const api = await setup(2)
    const first = Number((await api("GET", v3("/room_keys/version"))).body.version)
    await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: { public_key: "k" } })
    const latest = Number((await api("GET", v3("/room_keys/version"))).body.version)
    expect(first).toBeGreaterThanOrEqual(before)
    expect(latest).toBeGreaterThan(first)
    expect(latest).toBeLessThanOrEqual(Date.now())
  })
})

describe("dendrite numbering", () => {
  const setup = withProfile("dendrite")

  it("versions come from one serial for every user: a user's versions have gaps where another user made theirs", async () => {
    const alice = await setup(1)
    const bob = await setup(2)
    expect((await bob("GET", v3("/room_keys/version"))).body.version).toBe("3")
    await alice("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: { public_key: "k" } })
    expect((await alice("GET", v3("/room_keys/version"))).body.version).toBe("4")
    expect((await alice("GET", v3("/room_keys/version/2"))).status).toBe(404)
    expect(PROFILES.synapse.versionNumbers).toBe("perUser")
  })
})
