// The gates of "hold" faults: a request that reaches one waits until the test releases it, so a test can
// act while a request is known to be in flight instead of guessing with latency and sleeps.

/** How a wait ended: released by the test, or abandoned (the client left, the server is stopping). */
export type HoldOutcome = "released" | "abandoned"

interface Waiter {
  readonly count: number
  readonly resolve: (held: number) => void
  readonly reject: (error: Error) => void
}

interface Gate {
  /** Requests that reached the gate so far, released or not. */
  arrived: number
  held: Array<(outcome: HoldOutcome) => void>
  waiters: Array<Waiter>
}

/** One gate per hold fault, keyed by the fault's id. */
export class Holds {
  private readonly gates = new Map<string, Gate>()

  private gate(id: string): Gate {
    let gate = this.gates.get(id)
    if (gate === undefined) {
      gate = { arrived: 0, held: [], waiters: [] }
      this.gates.set(id, gate)
    }
    return gate
  }

  /** Waits at gate `id` until it is released, or abandoned when `signal` aborts (the client left). */
  wait(id: string, signal: AbortSignal | undefined): Promise<HoldOutcome> {
    if (signal?.aborted === true) return Promise.resolve("abandoned")
    const gate = this.gate(id)
    return new Promise((resolve) => {
      const done = (outcome: HoldOutcome): void => {
        gate.held = gate.held.filter((release) => release !== done)
        signal?.removeEventListener("abort", onAbort)
        resolve(outcome)
      }
      const onAbort = (): void => done("abandoned")
      gate.held.push(done)
      signal?.addEventListener("abort", onAbort)
      gate.arrived += 1
      for (const waiter of gate.waiters.filter((w) => w.count <= gate.arrived)) waiter.resolve(gate.held.length)
      gate.waiters = gate.waiters.filter((w) => w.count > gate.arrived)
    })
  }

  /** Resolves with the number held now, once `count` requests in total have reached gate `id`. */
  awaitHeld(id: string, count: number): Promise<number> {
    const gate = this.gate(id)
    if (gate.arrived >= count) return Promise.resolve(gate.held.length)
    return new Promise((resolve, reject) => gate.waiters.push({ count, resolve, reject }))
  }

  /** Ends every wait at gate `id` with `outcome` ("released": the requests go on); returns how many there were. */
  release(id: string, outcome: HoldOutcome = "released"): number {
    const held = [...(this.gates.get(id)?.held ?? [])]
    for (const release of held) release(outcome)
    return held.length
  }

  /** Ends gate `id` (its requests go on, or are abandoned) and forgets it; callers still waiting for it are told the fault is gone. */
  remove(id: string, outcome: HoldOutcome = "released"): void {
    this.release(id, outcome)
    for (const waiter of this.gates.get(id)?.waiters ?? []) waiter.reject(new Error(`fake homeserver: fault ${id} was removed`))
    this.gates.delete(id)
  }

  /** Removes every gate. */
  clear(outcome: HoldOutcome = "released"): void {
    for (const id of [...this.gates.keys()]) this.remove(id, outcome)
  }
}
