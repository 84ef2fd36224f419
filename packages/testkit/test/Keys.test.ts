// Device and cross-signing keys over loopback HTTP: upload counts, query, claim (one-time then
// fallback), device-signing UIA after the first upload, signature uploads and their failures.
import { describe, expect, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { createUserWithCrossSigning, ed25519PublicKey, registerUser, signJson } from "../src/index.js"
import { call, useServer, v3 } from "./support.js"

describe("keys", () => {
  const server = useServer()

  it("upload returns one_time_key_counts; claim takes one-time keys, then the fallback key", async () => {
    const alice = await registerUser(server.current.url)
    const bob = await registerUser(server.current.url)
    const url = server.current.url
    const upload = await call(url, "POST", v3("/keys/upload"), {
      token: alice.accessToken,
      body: { one_time_keys: { "signed_curve25519:AAAAAQ": { key: "k1" }, "signed_curve25519:AAAAAg": { key: "k2" } }, fallback_keys: { "signed_curve25519:AAAAAw": { key: "fb", fallback: true } } },
    })
    expect(upload.body).toEqual({ one_time_key_counts: { signed_curve25519: 2 } })
    const conflict = await call(url, "POST", v3("/keys/upload"), { token: alice.accessToken, body: { one_time_keys: { "signed_curve25519:AAAAAQ": { key: "other" } } } })
    expect(conflict.status).toBe(400)
    const claim = () => call(url, "POST", v3("/keys/claim"), { token: bob.accessToken, body: { one_time_keys: { [alice.userId]: { [alice.deviceId]: "signed_curve25519" } } } })
    const claimed = [await claim(), await claim(), await claim(), await claim()].map((reply) => Object.values(reply.body.one_time_keys[alice.userId][alice.deviceId] ?? {}))
    expect(claimed.map((keys) => JSON.stringify(keys))).toEqual([JSON.stringify([{ key: "k1" }]), JSON.stringify([{ key: "k2" }]), JSON.stringify([{ key: "fb", fallback: true }]), JSON.stringify([{ key: "fb", fallback: true }])])
    const sync = await call(url, "GET", v3("/sync"), { token: alice.accessToken })
    expect(sync.body.device_one_time_keys_count).toEqual({ signed_curve25519: 0 })
    expect(sync.body.device_unused_fallback_key_types).toEqual([])
  })

  it("device keys must name the caller; query returns display names and nothing for unknown users", async () => {
    const user = await registerUser(server.current.url, { deviceId: "PHONE" })
    const url = server.current.url
    const wrong = await call(url, "POST", v3("/keys/upload"), { token: user.accessToken, body: { device_keys: { user_id: "@other:localhost", device_id: "PHONE", keys: {} } } })
    expect([wrong.status, wrong.body.errcode]).toEqual([400, "M_INVALID_PARAM"])
    await call(url, "PUT", v3("/devices/PHONE"), { token: user.accessToken, body: { display_name: "My phone" } })
    await call(url, "POST", v3("/keys/upload"), { token: user.accessToken, body: { device_keys: { user_id: user.userId, device_id: "PHONE", algorithms: [], keys: { "ed25519:PHONE": "x" } } } })
    const query = await call(url, "POST", v3("/keys/query"), { token: user.accessToken, body: { device_keys: { [user.userId]: ["PHONE"], "@ghost:localhost": [] } } })
    expect(query.body.device_keys[user.userId].PHONE).toEqual({ user_id: user.userId, device_id: "PHONE", algorithms: [], keys: { "ed25519:PHONE": "x" }, unsigned: { device_display_name: "My phone" } })
    expect(query.body.device_keys["@ghost:localhost"]).toEqual({})
    expect(query.body).toMatchObject({ failures: {}, master_keys: {}, self_signing_keys: {}, user_signing_keys: {} })
  })

  it("the first cross-signing upload needs no UIA; replacing keys does (password or dummy)", async () => {
    const identity = await createUserWithCrossSigning(server.current.url)
    const url = server.current.url
    const seed = randomBytes(32)
    const pub = ed25519PublicKey(seed)
    const master = { user_id: identity.userId, usage: ["master"], keys: { [`ed25519:${pub}`]: pub } }
    const challenge = await call(url, "POST", v3("/keys/device_signing/upload"), { token: identity.accessToken, body: { master_key: master } })
    expect(challenge.status).toBe(401)
    expect(challenge.body).toMatchObject({ flows: [{ stages: ["m.login.password"] }, { stages: ["m.login.dummy"] }], session: expect.any(String) })
    const session = String(challenge.body.session)
    const badPassword = await call(url, "POST", v3("/keys/device_signing/upload"), {
      token: identity.accessToken,
      body: { master_key: master, auth: { type: "m.login.password", identifier: { type: "m.id.user", user: identity.userId }, password: "wrong", session } },
    })
    expect([badPassword.status, badPassword.body.errcode]).toEqual([401, "M_FORBIDDEN"])
    const ok = await call(url, "POST", v3("/keys/device_signing/upload"), {
      token: identity.accessToken,
      body: { master_key: master, auth: { type: "m.login.password", identifier: { type: "m.id.user", user: identity.userId }, password: identity.password, session } },
    })
    expect(ok.body).toEqual({})
    const query = await call(url, "POST", v3("/keys/query"), { token: identity.accessToken, body: { device_keys: { [identity.userId]: [] } } })
    expect(query.body.master_keys[identity.userId]).toEqual(master)
    // Re-uploading the same keys is idempotent and needs no UIA.
    expect((await call(url, "POST", v3("/keys/device_signing/upload"), { token: identity.accessToken, body: { master_key: master } })).status).toBe(200)
  })

  it("a self-signing key not signed by the master key is 400 M_INVALID_SIGNATURE", async () => {
    const user = await registerUser(server.current.url)
    const [masterSeed, sskSeed] = [randomBytes(32), randomBytes(32)]
    const masterPub = ed25519PublicKey(masterSeed)
    const sskPub = ed25519PublicKey(sskSeed)
    const master = { user_id: user.userId, usage: ["master"], keys: { [`ed25519:${masterPub}`]: masterPub } }
    const unsigned = { user_id: user.userId, usage: ["self_signing"], keys: { [`ed25519:${sskPub}`]: sskPub } }
    const selfSigned = signJson(unsigned, user.userId, sskPub, sskSeed)
    const reply = await call(server.current.url, "POST", v3("/keys/device_signing/upload"), { token: user.accessToken, body: { master_key: master, self_signing_key: selfSigned } })
    expect([reply.status, reply.body.errcode]).toEqual([400, "M_INVALID_SIGNATURE"])
    const wrongUsage = await call(server.current.url, "POST", v3("/keys/device_signing/upload"), { token: user.accessToken, body: { master_key: { ...master, usage: ["self_signing"] } } })
    expect(wrongUsage.body.errcode).toBe("M_INVALID_PARAM")
  })

  it("signature uploads merge valid signatures and report failures per key", async () => {
    const identity = await createUserWithCrossSigning(server.current.url)
    const url = server.current.url
    const query = async () => (await call(url, "POST", v3("/keys/query"), { token: identity.accessToken, body: { device_keys: { [identity.userId]: [] } } })).body
    const device = (await query()).device_keys[identity.userId][identity.deviceId]
    const forged = { ...device, signatures: { [identity.userId]: { [`ed25519:${identity.selfSigningPublicKey}`]: "A".repeat(86) } } }
    const tampered = signJson({ ...device, keys: { other: "x" } }, identity.userId, identity.selfSigningPublicKey, identity.selfSigningSeed)
    const reply = await call(url, "POST", v3("/keys/signatures/upload"), { token: identity.accessToken, body: { [identity.userId]: { [identity.deviceId]: forged, NOPE: device } } })
    expect(reply.body.failures[identity.userId][identity.deviceId]).toMatchObject({ status: 400, errcode: "M_INVALID_SIGNATURE" })
    expect(reply.body.failures[identity.userId].NOPE).toMatchObject({ status: 404, errcode: "M_NOT_FOUND" })
    const mismatch = await call(url, "POST", v3("/keys/signatures/upload"), { token: identity.accessToken, body: { [identity.userId]: { [identity.deviceId]: tampered } } })
    expect(mismatch.body.failures[identity.userId][identity.deviceId]).toMatchObject({ errcode: "M_INVALID_PARAM" })
    // The stored device keys still carry the valid signatures only.
    expect(Object.keys((await query()).device_keys[identity.userId][identity.deviceId].signatures[identity.userId]).sort()).toEqual([`ed25519:${identity.deviceId}`, `ed25519:${identity.selfSigningPublicKey}`].sort())
  })

  it("only the owner sees their user-signing key", async () => {
    const alice = await createUserWithCrossSigning(server.current.url)
    const bob = await registerUser(server.current.url)
    const reply = await call(server.current.url, "POST", v3("/keys/query"), { token: bob.accessToken, body: { device_keys: { [alice.userId]: [] } } })
    expect(Object.keys(reply.body.master_keys)).toEqual([alice.userId])
    expect(Object.keys(reply.body.self_signing_keys)).toEqual([alice.userId])
    expect(reply.body.user_signing_keys).toEqual({})
  })
})
