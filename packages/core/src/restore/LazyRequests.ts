/**
 * Bookkeeping of the lazy per-session downloader: who waits for which key, which sessions of each room are
 * queued, and the negative cache of keys the backup does not have. Synchronous; callers run it in `Effect.sync`.
 */
import type { Deferred } from "effect"
import type { FailureReason } from "./RestoreError.js"

/** The outcome of one `requestKey`. */
export type KeyRequestResult =
  | { readonly _tag: "Imported" }
  | { readonly _tag: "NotInBackup" }
  | { readonly _tag: "Failed"; readonly reason: FailureReason | "Homeserver" }

const keyOf = (roomId: string, sessionId: string) => `${roomId}\u0000${sessionId}`

/** What `enqueue` did: joined an existing wait, answered from the negative cache, or queued anew. */
export type Enqueued =
  | { readonly _tag: "Cached" }
  | { readonly _tag: "Waiting"; readonly deferred: Deferred.Deferred<KeyRequestResult>; readonly newRoom: boolean }

/** Mutable state shared by requesters and workers. */
export class LazyRequests {
  private readonly waiters = new Map<string, Deferred.Deferred<KeyRequestResult>>()
  private readonly pending = new Map<string, Set<string>>()
  private readonly negative = new Map<string, number>()

  constructor(private readonly negativeTtlMs: number) {}

  /** Registers interest in a key; `make` creates the deferred when nobody waits for it yet. */
  enqueue(roomId: string, sessionId: string, now: number, make: () => Deferred.Deferred<KeyRequestResult>): Enqueued {
    const key = keyOf(roomId, sessionId)
    const expires = this.negative.get(key)
    if (expires !== undefined && expires > now) return { _tag: "Cached" }
    if (expires !== undefined) this.negative.delete(key)
    const existing = this.waiters.get(key)
    if (existing !== undefined) return { _tag: "Waiting", deferred: existing, newRoom: false }
    const deferred = make()
    this.waiters.set(key, deferred)
    const sessions = this.pending.get(roomId)
    if (sessions === undefined) this.pending.set(roomId, new Set([sessionId]))
    else sessions.add(sessionId)
    return { _tag: "Waiting", deferred, newRoom: sessions === undefined }
  }

  /** Takes every queued session of a room (they stay awaited until `settle`). */
  take(roomId: string): ReadonlyArray<string> {
    const sessions = this.pending.get(roomId)
    this.pending.delete(roomId)
    return sessions === undefined ? [] : [...sessions]
  }

  /** Puts sessions back after a retryable failure; true when the room must be queued again. */
  requeue(roomId: string, sessionIds: ReadonlyArray<string>): boolean {
    if (sessionIds.length === 0) return false
    const sessions = this.pending.get(roomId)
    if (sessions === undefined) this.pending.set(roomId, new Set(sessionIds))
    else for (const id of sessionIds) sessions.add(id)
    return sessions === undefined
  }

  /** Ends the wait for one key; `NotInBackup` also enters the negative cache. Returns its deferred. */
  settle(roomId: string, sessionId: string, result: KeyRequestResult, now: number): Deferred.Deferred<KeyRequestResult> | undefined {
    const key = keyOf(roomId, sessionId)
    if (result._tag === "NotInBackup") this.negative.set(key, now + this.negativeTtlMs)
    const deferred = this.waiters.get(key)
    this.waiters.delete(key)
    if (this.negative.size > 10_000) this.prune(now)
    return deferred
  }

  /** Keys requested and not yet settled. */
  get size(): number {
    return this.waiters.size
  }

  private prune(now: number): void {
    for (const [key, expires] of this.negative) if (expires <= now) this.negative.delete(key)
  }
}
