// The "hold" fault: a matching request (or its body, after `afterBytes`) waits until the test releases it,
// through the in-process admin and over `/_testkit`; removing the fault or stopping the server lets it go.
import { describe, expect, it } from "@effect/vitest"
import { connectAdmin, createInProcessHomeserver, generateRoomKeys, registerUser, seedBackup, startFakeHomeserver } from "../src/index.js"
import { call, clientFor, newUser, useServer, v3 } from "./support.js"

/** Reads until `limit` bytes arrived or the body ended. */
const read = async (reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<Uint8Array> => {
  const parts: Array<Uint8Array> = []
  let length = 0
  while (length < limit) {
    const next = await reader.read()
    if (next.done) break
    parts.push(next.value)
    length += next.value.byteLength
  }
  return Buffer.concat(parts)
}

const sessions = (body: { rooms: Record<string, { sessions: Record<string, unknown> }> }) =>
  Object.values(body.rooms).reduce((n, room) => n + Object.keys(room.sessions).length, 0)

describe("hold faults", () => {
  const server = useServer()

  it("holds a request before the handler until released; other requests go through meanwhile", async () => {
    const user = await newUser(server)
    const api = clientFor(server.current.url, user)
    const { admin } = server.current
    await admin.clearRequestLog()
    const id = await admin.injectFault({ kind: "hold", times: 1, match: { method: "PUT", path: "/account_data/" } })
    const put = api("PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.held`), { a: 1 })
    expect(await admin.awaitHeld(id)).toBe(1)
    // Held before the handler: nothing is stored yet, and the request is not logged yet.
    expect(await admin.accountData(user.userId, "m.held")).toBeUndefined()
    expect((await api("GET", v3("/account/whoami"))).status).toBe(200)
    expect((await admin.requestLog()).map((e) => e.path)).toEqual([v3("/account/whoami")])
    expect(await admin.releaseHeld(id)).toBe(1)
    expect((await put).status).toBe(200)
    expect(await admin.accountData(user.userId, "m.held")).toEqual({ a: 1 })
    expect((await admin.requestLog()).at(-1)).toMatchObject({ method: "PUT", status: 200, faults: ["hold"] })
    // `times: 1`: the next matching request is not held, and nothing is left to release.
    expect((await api("PUT", v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.held`), { a: 2 })).status).toBe(200)
    expect(await admin.releaseHeld(id)).toBe(0)
  })

  it("over /_testkit: holds a body after `afterBytes`, counts arrivals, and releases it intact", async () => {
    const user = await newUser(server)
    const admin = connectAdmin(server.current.url)
    const { version } = await seedBackup(server.current.admin, user.userId, {
      backupPublicKey: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
      keys: generateRoomKeys(200, { rooms: 2 }),
    })
    const id = await admin.injectFault({ kind: "hold", afterBytes: 4000, match: { path: "/room_keys/keys" } })
    const waiting = admin.awaitHeld(id, 2)
    const open = () => fetch(`${server.current.url}${v3(`/room_keys/keys?version=${version}`)}`, { headers: { authorization: `Bearer ${user.accessToken}` } })
    const [first, second] = await Promise.all([open(), open()])
    expect(await waiting).toBe(2)
    const reader = first?.body?.getReader()
    if (reader === undefined) throw new Error("test: no body")
    const head = await read(reader, 4000)
    // Everything before the hold point arrives; the rest cannot until the release.
    expect(head.byteLength).toBe(4000)
    expect(await admin.releaseHeld(id)).toBe(2)
    const rest = await read(reader, Infinity)
    expect(sessions(JSON.parse(new TextDecoder().decode(Buffer.concat([head, rest]))))).toBe(200)
    expect(sessions(await second?.json())).toBe(200)
  })

  it("removing the fault lets held requests go on; an id that is not a hold fault is refused", async () => {
    const api = clientFor(server.current.url, await newUser(server))
    const admin = connectAdmin(server.current.url)
    const id = await admin.injectFault({ kind: "hold", match: { path: "/account/whoami" } })
    const held = api("GET", v3("/account/whoami"))
    await admin.awaitHeld(id)
    await admin.removeFault(id)
    expect((await held).status).toBe(200)
    await expect(admin.releaseHeld(id)).rejects.toThrow(/404/)
    const other = await admin.injectFault({ kind: "serverError", match: { path: "/nowhere" } })
    await expect(admin.awaitHeld(other)).rejects.toThrow(/404/)
  })

  it("stopping the server does not wait for held requests, and their handlers never run", async () => {
    const other = await startFakeHomeserver()
    const id = await other.admin.injectFault({ kind: "hold", match: { path: "/versions" } })
    const held = call(other.url, "GET", "/_matrix/client/versions")
    await other.admin.awaitHeld(id)
    await other.stop()
    // The connection closes with the server: the request settles (here, or in the client) instead of hanging.
    await Promise.allSettled([held])

    const fake = createInProcessHomeserver()
    const user = await registerUser(fake.url, { fetch: fake.fetch })
    const hold = await fake.admin.injectFault({ kind: "hold", match: { method: "PUT", path: "/account_data/" } })
    const put = fake.fetch(`${fake.url}${v3(`/user/${encodeURIComponent(user.userId)}/account_data/m.late`)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ late: true }),
    })
    await fake.admin.awaitHeld(hold)
    await fake.stop()
    expect((await put).status).toBe(503)
    expect(await fake.admin.accountData(user.userId, "m.late")).toBeUndefined()
  })

  it("holds in process too", async () => {
    const fake = createInProcessHomeserver()
    const user = await registerUser(fake.url, { fetch: fake.fetch })
    const id = await fake.admin.injectFault({ kind: "hold", match: { path: "/account/whoami" } })
    let settled = false
    const whoami = fake.fetch(`${fake.url}${v3("/account/whoami")}`, { headers: { authorization: `Bearer ${user.accessToken}` } }).then((r) => {
      settled = true
      return r
    })
    expect(await fake.admin.awaitHeld(id)).toBe(1)
    expect(settled).toBe(false)
    expect(await fake.admin.releaseHeld(id)).toBe(1)
    expect(await (await whoami).json()).toMatchObject({ user_id: user.userId })
    await fake.stop()
  })
})
