// Server profiles over loopback HTTP: each difference from Synapse a profile imitates, next to what
// Synapse answers to the same requests (README "Server profiles" names the source of each).
import { describe, expect, it } from "@effect/vitest"
import type { ServerProfileName } from "../src/index.js"
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
const withProfile = (profile: ServerProfileName) => {
  const server = useServer({ profile })
  return async (versions: number) => {
    const api = clientFor(server.current.url, await newUser(server))
    for (let i = 1; i <= versions; i++) await api("POST", v3("/room_keys/version"), { algorithm: ALG, auth_data: { public_key: `k${i}` } })
    return api
  }
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

  it("with no backup left, an upload to the deleted version is accepted (no latest to compare with)", async () => {
    const api = await setup(1)
    await api("DELETE", v3("/room_keys/version/1"))
    const put = await api("PUT", v3("/room_keys/keys?version=1"), bulk("s", 0))
    expect([put.status, put.body.count]).toEqual([200, 1])
    expect((await api("GET", v3("/room_keys/version/1"))).status).toBe(404)
    expect((await api("PUT", v3("/room_keys/keys?version=7"), bulk("s", 0))).status).toBe(404)
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

  it("wrong version is 400 M_WRONG_ROOM_KEYS_VERSION; versions compare as numbers", async () => {
    const api = await setup(10)
    expect((await api("GET", v3("/room_keys/version"))).body.version).toBe("10")
    const wrong = await api("PUT", v3("/room_keys/keys?version=9"), bulk("s", 0))
    expect([wrong.status, wrong.body.errcode, wrong.body.current_version]).toEqual([400, "M_WRONG_ROOM_KEYS_VERSION", "10"])
    expect((await api("PUT", v3("/room_keys/keys?version=010"), bulk("s", 0))).status).toBe(200)
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
    await api("PUT", v3("/room_keys/version/1"), { algorithm: ALG, auth_data: { public_key: "k1" } })
    expect((await api("GET", v3("/room_keys/version"))).body.count).toBe(1)
  })
})
