/**
 * `LazyKeyDownloader`: fetches single keys a host could not decrypt with, from the server backup
 * (js-sdk's PerSessionKeyBackupDownloader, PROTOCOL.md §8.3): deduplicated, negatively cached, backing off on
 * 429 and errors, capped in concurrency, one per-room request when several sessions of a room are missing,
 * and paused while the backup is unusable.
 */
import { Chunk, Clock, Context, Deferred, Duration, Effect, Either, Layer, Option, Queue, Ref, Stream } from "effect"
import { RoomIdKey, SessionIdKey } from "../schema/Ids.js"
import { BackupEvents } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { CryptoBackend } from "../services/CryptoBackend.js"
import type { RoomKeyEntry } from "../services/HomeserverApi.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { isTransient } from "../services/HomeserverError.js"
import { type BackoffStepper, stepper } from "../retry/Backoff.js"
import type { UsabilityMonitor } from "./BackupUsability.js"
import { startMonitor } from "./BackupUsability.js"
import { decryptEntries } from "./DecryptEntries.js"
import type { KeyRequestResult } from "./LazyRequests.js"
import { LazyRequests } from "./LazyRequests.js"
import type { RestoreTarget } from "./RestoreTarget.js"

export type { KeyRequestResult } from "./LazyRequests.js"

/** Tuning; every field has the js-sdk-like default noted. */
export interface LazyKeyDownloaderOptions {
  /** How long a key the backup lacks is not asked for again (5 s). */
  readonly negativeCacheTtl?: Duration.DurationInput
  /** Requests in flight at once (2). */
  readonly maxConcurrent?: number
  /** Wait before taking a room's queue, so a burst of misses in one room becomes one request (20 ms). */
  readonly gatherWindow?: Duration.DurationInput
  /** Sessions of one room from which a per-room request replaces per-session ones (2). */
  readonly perRoomThreshold?: number
  /** Wait on 429 without `retry_after_ms` (5 s). */
  readonly rateLimitDelay?: Duration.DurationInput
  /** First backoff after other errors, doubled per failure up to `maxBackoff` (1 s, 60 s). */
  readonly baseBackoff?: Duration.DurationInput
  readonly maxBackoff?: Duration.DurationInput
}

/** The service. */
export class LazyKeyDownloader extends Context.Tag("@matrix-backup/core/LazyKeyDownloader")<
  LazyKeyDownloader,
  {
    /** Asks the backup for one key and waits for the outcome (fork it to fire and forget). */
    readonly requestKey: (roomId: string, sessionId: string) => Effect.Effect<KeyRequestResult>
    /** Keys requested and not yet settled. */
    readonly pendingCount: Effect.Effect<number>
  }
>() {}

const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

/** The options with their defaults filled in, in milliseconds. */
const settingsOf = (options: LazyKeyDownloaderOptions) => ({
  negativeTtl: millis(options.negativeCacheTtl, 5000),
  workers: Math.max(1, options.maxConcurrent ?? 2),
  gather: millis(options.gatherWindow, 20),
  perRoom: Math.max(1, options.perRoomThreshold ?? 2),
  rateLimit: millis(options.rateLimitDelay, 5000),
  base: millis(options.baseBackoff, 1000),
  max: millis(options.maxBackoff, 60_000),
})

/** What the steps below share: the ports, the settings, the bookkeeping and the shared hold. */
interface Downloader {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly store: Context.Tag.Service<BackupStore>
  readonly backend: Context.Tag.Service<CryptoBackend>
  readonly settings: ReturnType<typeof settingsOf>
  readonly requests: LazyRequests
  readonly rooms: Queue.Queue<string>
  /** Until when every worker waits (a 429 or a backoff), in clock milliseconds. */
  readonly holdUntil: Ref.Ref<number>
  /** The delay after each transient failure in a row (core's one backoff), reset by a success. */
  readonly backoff: BackoffStepper
  readonly monitor: UsabilityMonitor
}

/** Answers everyone waiting for `sessionIds` of `roomId` with `resultOf` (negative results are cached). */
const settle = (d: Downloader, roomId: string, sessionIds: ReadonlyArray<string>, resultOf: (sessionId: string) => KeyRequestResult) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.forEach(sessionIds, (sessionId) => {
      const result = resultOf(sessionId)
      const deferred = d.requests.settle(roomId, sessionId, result, now)
      return deferred === undefined ? Effect.void : Deferred.succeed(deferred, result)
    }, { discard: true }),
  )

/** Puts the sessions back in their room's queue, and the room back in the work queue when it was empty. */
const requeue = (d: Downloader, roomId: string, sessionIds: ReadonlyArray<string>) =>
  Effect.suspend(() => (d.requests.requeue(roomId, sessionIds) ? Queue.offer(d.rooms, roomId) : Effect.void))

/** Makes every worker wait at least `ms` from now. */
const hold = (d: Downloader, ms: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(d.holdUntil, (until) => Math.max(until, now + ms)))

const waitHold = (d: Downloader) =>
  Effect.flatMap(Effect.zip(Ref.get(d.holdUntil), Clock.currentTimeMillis), ([until, now]) =>
    until > now ? Effect.sleep(until - now) : Effect.void,
  )

/** One per-session GET for a lone session, else the room's keys. */
const download = (d: Downloader, target: RestoreTarget, roomId: string, sessionIds: ReadonlyArray<string>) => {
  const [only] = sessionIds
  if (sessionIds.length < d.settings.perRoom && only !== undefined) {
    return Effect.map(d.api.getRoomKey(target.version, RoomIdKey.make(roomId), SessionIdKey.make(only)), (found) =>
      Option.match(found, {
        onNone: (): ReadonlyArray<RoomKeyEntry> => [],
        onSome: (data) => [{ roomId: RoomIdKey.make(roomId), sessionId: SessionIdKey.make(only), data: Either.right(data) }],
      }),
    )
  }
  return Effect.map(Stream.runCollect(d.api.streamRoomKeys(target.version, { roomId: RoomIdKey.make(roomId) })), Chunk.toReadonlyArray)
}

/** A failed download: wait and retry (429, transient), recheck the backup (gone, replaced), or give up. */
const onError = (d: Downloader, roomId: string, sessionIds: ReadonlyArray<string>, error: HomeserverApiError) => {
  if (error._tag === "RateLimited") return Effect.zipRight(hold(d, error.retryAfterMs ?? d.settings.rateLimit), requeue(d, roomId, sessionIds))
  if (error._tag === "BackupNotFound" || error._tag === "WrongBackupVersion") return Effect.zipRight(d.monitor.recheck, requeue(d, roomId, sessionIds))
  if (isTransient(error)) {
    return d.backoff.next.pipe(
      Effect.flatMap((delay) => hold(d, Duration.toMillis(delay))),
      Effect.zipRight(requeue(d, roomId, sessionIds)),
    )
  }
  const reason = error._tag === "MalformedResponse" ? "MalformedEntry" : "Homeserver"
  return settle(d, roomId, sessionIds, () => ({ _tag: "Failed", reason }))
}

/** Decrypts and stores what the backup returned, then answers each requested session. */
const importEntries = (d: Downloader, target: RestoreTarget, roomId: string, sessionIds: ReadonlyArray<string>, entries: ReadonlyArray<RoomKeyEntry>) =>
  Effect.gen(function* () {
    const decrypted = yield* decryptEntries(d.backend, target.privateKey, entries)
    const stored = yield* Effect.either(d.store.upsertRoomKeys(decrypted.keys, { backedUpTo: target.version }))
    const imported = new Set(decrypted.keys.map((k) => k.sessionId))
    const failed = new Map(decrypted.failures.map((f) => [f.sessionId, f.reason]))
    yield* settle(d, roomId, sessionIds, (sessionId): KeyRequestResult => {
      if (imported.has(sessionId)) return Either.isLeft(stored) ? { _tag: "Failed", reason: "StoreFailure" } : { _tag: "Imported" }
      const reason = failed.get(sessionId)
      return reason === undefined ? { _tag: "NotInBackup" } : { _tag: "Failed", reason }
    })
  })

/** One worker's turn on a room: wait for a usable backup, the gather window and any hold, then fetch and import. */
const serveRoom = (d: Downloader) =>
  Effect.fn("LazyKeyDownloader.serveRoom")(function* (roomId: string) {
    yield* d.monitor.awaitUsable
    yield* Effect.sleep(d.settings.gather)
    yield* waitHold(d)
    const sessionIds = d.requests.take(roomId)
    if (sessionIds.length === 0) return
    const target = yield* d.monitor.target
    if (Option.isNone(target)) return yield* requeue(d, roomId, sessionIds)
    const downloaded = yield* Effect.either(download(d, target.value, roomId, sessionIds))
    if (Either.isLeft(downloaded)) return yield* onError(d, roomId, sessionIds, downloaded.left)
    yield* d.backoff.reset
    yield* importEntries(d, target.value, roomId, sessionIds, downloaded.right)
  })

/** Joins the wait for a key, queueing its room (and waking the monitor) when nobody asked for that room yet. */
const requestKey = (d: Downloader) =>
  Effect.fn("LazyKeyDownloader.requestKey")(function* (roomId: string, sessionId: string) {
    const now = yield* Clock.currentTimeMillis
    const fresh = yield* Deferred.make<KeyRequestResult>()
    const enqueued = d.requests.enqueue(roomId, sessionId, now, () => fresh)
    if (enqueued._tag === "Cached") return { _tag: "NotInBackup" } as const
    if (enqueued.newRoom) yield* Effect.zipRight(Queue.offer(d.rooms, roomId), d.monitor.poke)
    return yield* Deferred.await(enqueued.deferred)
  })

/** Builds the downloader; its workers and monitor live as long as the scope. */
export const make = (options: LazyKeyDownloaderOptions = {}) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi
    const store = yield* BackupStore
    const settings = settingsOf(options)
    const d: Downloader = {
      api,
      store,
      backend: yield* CryptoBackend,
      settings,
      requests: new LazyRequests(settings.negativeTtl),
      rooms: yield* Queue.unbounded<string>(),
      holdUntil: yield* Ref.make(0),
      backoff: yield* stepper({ base: settings.base, max: settings.max }),
      monitor: yield* startMonitor(api, store, yield* BackupEvents, settings.rateLimit),
    }
    const serve = serveRoom(d)
    for (let i = 0; i < settings.workers; i++) yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(d.rooms), serve)))
    const service: Context.Tag.Service<LazyKeyDownloader> = {
      requestKey: requestKey(d),
      pendingCount: Effect.sync(() => d.requests.size),
    }
    return service
  })

/** The downloader with default options. */
export const layer: Layer.Layer<LazyKeyDownloader, never, HomeserverApi | BackupStore | CryptoBackend | BackupEvents> =
  Layer.scoped(LazyKeyDownloader, make())

/** The downloader with the given options. */
export const layerWith = (options: LazyKeyDownloaderOptions) => Layer.scoped(LazyKeyDownloader, make(options))
