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

/** Builds the downloader; its workers and monitor live as long as the scope. */
export const make = (options: LazyKeyDownloaderOptions = {}) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi
    const store = yield* BackupStore
    const backend = yield* CryptoBackend
    const events = yield* BackupEvents
    const settings = {
      gather: millis(options.gatherWindow, 20),
      perRoom: Math.max(1, options.perRoomThreshold ?? 2),
      rateLimit: millis(options.rateLimitDelay, 5000),
      base: millis(options.baseBackoff, 1000),
      max: millis(options.maxBackoff, 60_000),
    }
    const requests = new LazyRequests(millis(options.negativeCacheTtl, 5000))
    const rooms = yield* Queue.unbounded<string>()
    const holdUntil = yield* Ref.make(0)
    const failures = yield* Ref.make(0)
    const monitor = yield* startMonitor(api, store, events, settings.rateLimit)

    const settle = (roomId: string, sessionIds: ReadonlyArray<string>, resultOf: (sessionId: string) => KeyRequestResult) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.forEach(sessionIds, (sessionId) => {
          const result = resultOf(sessionId)
          const deferred = requests.settle(roomId, sessionId, result, now)
          return deferred === undefined ? Effect.void : Deferred.succeed(deferred, result)
        }, { discard: true }),
      )
    const requeue = (roomId: string, sessionIds: ReadonlyArray<string>) =>
      Effect.suspend(() => (requests.requeue(roomId, sessionIds) ? Queue.offer(rooms, roomId) : Effect.void))
    const hold = (ms: number) => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(holdUntil, (until) => Math.max(until, now + ms)))
    const waitHold = Effect.flatMap(Effect.zip(Ref.get(holdUntil), Clock.currentTimeMillis), ([until, now]) =>
      until > now ? Effect.sleep(until - now) : Effect.void,
    )

    const download = (target: RestoreTarget, roomId: string, sessionIds: ReadonlyArray<string>) => {
      const [only] = sessionIds
      if (sessionIds.length < settings.perRoom && only !== undefined) {
        return Effect.map(api.getRoomKey(target.version, RoomIdKey.make(roomId), SessionIdKey.make(only)), (found) =>
          Option.match(found, {
            onNone: (): ReadonlyArray<RoomKeyEntry> => [],
            onSome: (data) => [{ roomId: RoomIdKey.make(roomId), sessionId: SessionIdKey.make(only), data: Either.right(data) }],
          }),
        )
      }
      return Effect.map(Stream.runCollect(api.streamRoomKeys(target.version, { roomId: RoomIdKey.make(roomId) })), Chunk.toReadonlyArray)
    }

    const onError = (roomId: string, sessionIds: ReadonlyArray<string>, error: HomeserverApiError) => {
      if (error._tag === "RateLimited") return Effect.zipRight(hold(error.retryAfterMs ?? settings.rateLimit), requeue(roomId, sessionIds))
      if (error._tag === "BackupNotFound" || error._tag === "WrongBackupVersion") return Effect.zipRight(monitor.recheck, requeue(roomId, sessionIds))
      if (isTransient(error)) {
        return Ref.updateAndGet(failures, (n) => n + 1).pipe(
          Effect.flatMap((n) => hold(Math.min(settings.max, settings.base * 2 ** (n - 1)))),
          Effect.zipRight(requeue(roomId, sessionIds)),
        )
      }
      const reason = error._tag === "MalformedResponse" ? "MalformedEntry" : "Homeserver"
      return settle(roomId, sessionIds, () => ({ _tag: "Failed", reason }))
    }

    const importEntries = (target: RestoreTarget, roomId: string, sessionIds: ReadonlyArray<string>, entries: ReadonlyArray<RoomKeyEntry>) =>
      Effect.gen(function* () {
        const decrypted = yield* decryptEntries(backend, target.privateKey, entries)
        const stored = yield* Effect.either(store.upsertRoomKeys(decrypted.keys, { backedUpTo: target.version }))
        const imported = new Set(decrypted.keys.map((k) => k.sessionId))
        const failed = new Map(decrypted.failures.map((f) => [f.sessionId, f.reason]))
        yield* settle(roomId, sessionIds, (sessionId): KeyRequestResult => {
          if (imported.has(sessionId)) return Either.isLeft(stored) ? { _tag: "Failed", reason: "StoreFailure" } : { _tag: "Imported" }
          const reason = failed.get(sessionId)
          return reason === undefined ? { _tag: "NotInBackup" } : { _tag: "Failed", reason }
        })
      })

    const serveRoom = (roomId: string) =>
      Effect.gen(function* () {
        yield* monitor.awaitUsable
        yield* Effect.sleep(settings.gather)
        yield* waitHold
        const sessionIds = requests.take(roomId)
        if (sessionIds.length === 0) return
        const target = yield* monitor.target
        if (Option.isNone(target)) return yield* requeue(roomId, sessionIds)
        const downloaded = yield* Effect.either(download(target.value, roomId, sessionIds))
        if (Either.isLeft(downloaded)) return yield* onError(roomId, sessionIds, downloaded.left)
        yield* Ref.set(failures, 0)
        yield* importEntries(target.value, roomId, sessionIds, downloaded.right)
      })

    const workers = Math.max(1, options.maxConcurrent ?? 2)
    for (let i = 0; i < workers; i++) yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(rooms), serveRoom)))

    const service: LazyKeyDownloader["Type"] = {
      requestKey: (roomId, sessionId) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const fresh = yield* Deferred.make<KeyRequestResult>()
          const enqueued = requests.enqueue(roomId, sessionId, now, () => fresh)
          if (enqueued._tag === "Cached") return { _tag: "NotInBackup" } as const
          if (enqueued.newRoom) yield* Effect.zipRight(Queue.offer(rooms, roomId), monitor.poke)
          return yield* Deferred.await(enqueued.deferred)
        }),
      pendingCount: Effect.sync(() => requests.size),
    }
    return service
  })

/** The downloader with default options. */
export const layer: Layer.Layer<LazyKeyDownloader, never, HomeserverApi | BackupStore | CryptoBackend | BackupEvents> =
  Layer.scoped(LazyKeyDownloader, make())

/** The downloader with the given options. */
export const layerWith = (options: LazyKeyDownloaderOptions) => Layer.scoped(LazyKeyDownloader, make(options))
