// Fault injection: which requests a fault hits (method, path, `times`, `nth`) and what it does:
// delay, hold, 429, 5xx before the handler runs; slow, held or cut response bodies after it ran.
import type { HoldOutcome } from "./Holds.js"
import { Holds } from "./Holds.js"
import type { CoreResponse } from "./Http.js"
import { ConnectionReset, json } from "./Http.js"

/** Which requests a fault applies to; a string path matches when the request path contains it. */
export interface FaultMatch {
  readonly method?: string
  readonly path?: RegExp | string
}

interface FaultBase {
  readonly match?: FaultMatch
  /** Fire for the first `times` matching requests only. */
  readonly times?: number
  /** Fire only for the Nth (1-based) matching request. */
  readonly nth?: number
}

/** A fault to inject. */
export type Fault = FaultBase &
  (
    | { readonly kind: "latency"; readonly ms: number }
    /** Waits until released through the admin API: before the handler, or after `afterBytes` bytes of the body (before its end if shorter). */
    | { readonly kind: "hold"; readonly afterBytes?: number }
    | { readonly kind: "rateLimit"; readonly retryAfterMs?: number }
    | { readonly kind: "serverError"; readonly status?: number }
    | { readonly kind: "resetMidBody"; readonly afterBytes?: number }
    | { readonly kind: "slowBody"; readonly bytesPerChunk: number; readonly delayMs: number }
  )

interface ActiveFault {
  readonly id: string
  readonly fault: Fault
  seen: number
  fired: number
}

/** Waits at a hold fault's gate until the test releases it (or the client or the server goes away). */
export type HoldAt = (fault: Fault) => Promise<HoldOutcome>

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const matches = (fault: Fault, method: string, path: string): boolean => {
  const match = fault.match
  if (match === undefined) return true
  if (match.method !== undefined && match.method.toUpperCase() !== method) return false
  if (match.path === undefined) return true
  return typeof match.path === "string" ? path.includes(match.path) : new RegExp(match.path.source, match.path.flags.replace("g", "")).test(path)
}

/** The faults in force and their counters. */
export class FaultSet {
  private faults: Array<ActiveFault> = []
  private counter = 0
  private readonly holds = new Holds()

  /** Adds a fault; returns its id. */
  add(fault: Fault): string {
    const id = `fault-${++this.counter}`
    this.faults.push({ id, fault, seen: 0, fired: 0 })
    return id
  }

  /** Removes one fault; true if it existed. */
  remove(id: string): boolean {
    const before = this.faults.length
    this.faults = this.faults.filter((active) => active.id !== id)
    this.holds.remove(id)
    return this.faults.length !== before
  }

  /** Removes every fault (held requests go on). */
  clear(): void {
    this.faults = []
    this.holds.clear()
  }

  /** Abandons every held request, which then never reaches its handler, and forgets the gates (the server is stopping). */
  abandonHolds(): void {
    this.holds.clear("abandoned")
  }

  /** Waits at `fault`'s gate (if it is still in force) until released or until `signal` aborts. */
  holdAt(fault: Fault, signal: AbortSignal | undefined): Promise<HoldOutcome> {
    const active = this.faults.find((candidate) => candidate.fault === fault)
    return active === undefined ? Promise.resolve("released") : this.holds.wait(active.id, signal)
  }

  /** Resolves with the number held now, once `count` requests in total have reached hold fault `id`. */
  awaitHeld(id: string, count: number): Promise<number> {
    return this.holds.awaitHeld(this.holdId(id), count)
  }

  /** Lets every request held by hold fault `id` go on; returns how many. */
  release(id: string): number {
    return this.holds.release(this.holdId(id))
  }

  private holdId(id: string): string {
    const active = this.faults.find((candidate) => candidate.id === id)
    if (active?.fault.kind !== "hold") throw new Error(`fake homeserver: no hold fault ${id}`)
    return id
  }

  /** The faults that fire for this request (counters advance). */
  select(method: string, path: string): ReadonlyArray<Fault> {
    const firing: Array<Fault> = []
    for (const active of this.faults) {
      if (!matches(active.fault, method, path)) continue
      active.seen += 1
      const { nth, times } = active.fault
      const fire = nth !== undefined ? active.seen === nth : times === undefined || active.fired < times
      if (!fire) continue
      active.fired += 1
      firing.push(active.fault)
    }
    return firing
  }
}

/** The answer to a held request whose client or server went away: nobody reads it, and the handler never runs. */
const abandoned = (): CoreResponse => json(503, { errcode: "M_UNKNOWN", error: "Request abandoned while held" })

/** Runs the faults that act before the handler: a delay, or a response instead of the handler. */
export const beforeHandler = async (faults: ReadonlyArray<Fault>, holdAt: HoldAt): Promise<CoreResponse | undefined> => {
  for (const fault of faults) {
    if (fault.kind === "latency") await sleep(fault.ms)
    if (fault.kind === "hold" && fault.afterBytes === undefined && (await holdAt(fault)) === "abandoned") return abandoned()
  }
  for (const fault of faults) {
    if (fault.kind === "rateLimit") {
      const retryAfterMs = fault.retryAfterMs ?? 1000
      return json(429, { errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: retryAfterMs }, {
        "retry-after": String(Math.ceil(retryAfterMs / 1000)),
      })
    }
    if (fault.kind === "serverError") return json(fault.status ?? 500, { errcode: "M_UNKNOWN", error: "Internal server error" })
  }
  return undefined
}

/** Wraps the response body with the body faults (slow or held delivery, then a reset). */
export const afterHandler = (response: CoreResponse, faults: ReadonlyArray<Fault>, holdAt: HoldAt): CoreResponse => {
  let body = response.body
  for (const fault of faults) {
    if (fault.kind === "slowBody") body = slow(body, Math.max(1, fault.bytesPerChunk), fault.delayMs)
    if (fault.kind === "hold" && fault.afterBytes !== undefined) body = held(body, Math.max(0, fault.afterBytes), () => holdAt(fault))
  }
  for (const fault of faults) {
    if (fault.kind === "resetMidBody") {
      const after = fault.afterBytes ?? (body instanceof Uint8Array ? Math.floor(body.byteLength / 2) : 1024)
      body = cut(body, after)
    }
  }
  return body === response.body ? response : { ...response, body }
}

async function* chunks(body: CoreResponse["body"]): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) yield body
  else yield* body
}

async function* slow(body: CoreResponse["body"], size: number, delayMs: number): AsyncIterable<Uint8Array> {
  for await (const chunk of chunks(body)) {
    for (let offset = 0; offset < chunk.byteLength; offset += size) {
      yield chunk.subarray(offset, offset + size)
      await sleep(delayMs)
    }
  }
}

async function* held(body: CoreResponse["body"], afterBytes: number, wait: () => Promise<HoldOutcome>): AsyncIterable<Uint8Array> {
  let sent = 0
  let waited = false
  for await (const chunk of chunks(body)) {
    const room = afterBytes - sent
    if (waited || chunk.byteLength < room) {
      sent += chunk.byteLength
      yield chunk
      continue
    }
    if (room > 0) yield chunk.subarray(0, room)
    if ((await wait()) === "abandoned") throw new ConnectionReset()
    waited = true
    if (chunk.byteLength > room) yield chunk.subarray(room)
  }
  if (!waited && (await wait()) === "abandoned") throw new ConnectionReset()
}

async function* cut(body: CoreResponse["body"], afterBytes: number): AsyncIterable<Uint8Array> {
  let sent = 0
  for await (const chunk of chunks(body)) {
    const room = afterBytes - sent
    if (chunk.byteLength >= room) {
      if (room > 0) yield chunk.subarray(0, room)
      throw new ConnectionReset()
    }
    sent += chunk.byteLength
    yield chunk
  }
  throw new ConnectionReset()
}
