/**
 * Whether the server backup can be used for lazy key downloads right now: a cached decryption key whose
 * version is the server's current one and whose public key matches (js-sdk pauses its per-session
 * downloader otherwise, PROTOCOL.md §8.3). Re-checked on KeyBackupDecryptionKeyCached / KeyBackupStatus.
 */
import { Effect, Either, Option, Queue, Redacted, Ref, Stream } from "effect"
import type { Context, Scope } from "effect"
import type { BackupEvents } from "../services/BackupEvents.js"
import { CryptoEvent } from "../services/BackupEvents.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { isTransient } from "../services/HomeserverError.js"
import { isBackupKeyFor } from "../crypto/BackupKey.js"
import type { RestoreTarget } from "./RestoreTarget.js"

/** Outcome of one check: usable with a target, unusable, or unknown for now (transient failure). */
export type Usability =
  | { readonly _tag: "Usable"; readonly target: RestoreTarget }
  | { readonly _tag: "Unusable" }
  | { readonly _tag: "Unknown" }

const unusable: Usability = { _tag: "Unusable" }

/** One check against the store and the server's current version. */
export const checkUsability = (api: Context.Tag.Service<HomeserverApi>, store: Context.Tag.Service<BackupStore>): Effect.Effect<Usability> =>
  Effect.gen(function* () {
    const cached = yield* Effect.either(store.getBackupDecryptionKey())
    if (Either.isLeft(cached)) return { _tag: "Unknown" } as const
    if (Option.isNone(cached.right)) return unusable
    const { key, version } = cached.right.value
    const info = yield* Effect.either(api.getBackupVersion())
    if (Either.isLeft(info)) return isTransient(info.left) || info.left._tag === "RateLimited" ? ({ _tag: "Unknown" } as const) : unusable
    const current = info.right
    if (current.version !== version || current.auth_data._tag !== "Curve25519") return unusable
    if (!isBackupKeyFor(Redacted.value(key), current.auth_data.public_key)) return unusable
    return { _tag: "Usable", target: { version: current.version, privateKey: key, count: current.count ?? 0 } } as const
  })

/** A live view of usability: `latch` is open while usable; `recheck` asks for a new check. */
export interface UsabilityMonitor {
  readonly target: Effect.Effect<Option.Option<RestoreTarget>>
  readonly awaitUsable: Effect.Effect<void>
  readonly recheck: Effect.Effect<void>
  /** Asks for a check while unusable (coalesced: at most one check is queued). */
  readonly poke: Effect.Effect<void>
}

/** Starts the monitor in the scope: checks now, on backup events, on request, and every `retryMs` while unknown. */
export const startMonitor = (
  api: Context.Tag.Service<HomeserverApi>,
  store: Context.Tag.Service<BackupStore>,
  events: Context.Tag.Service<BackupEvents>,
  retryMs: number,
): Effect.Effect<UsabilityMonitor, never, Scope.Scope> =>
  Effect.gen(function* () {
    const latch = yield* Effect.makeLatch(false)
    const current = yield* Ref.make(Option.none<RestoreTarget>())
    const wake = yield* Queue.sliding<void>(1)
    const subscription = yield* events.subscribe
    yield* Effect.forkScoped(
      Stream.fromQueue(subscription).pipe(
        Stream.filter((e) => e.name === CryptoEvent.KeyBackupDecryptionKeyCached || e.name === CryptoEvent.KeyBackupStatus),
        Stream.runForEach(() => Queue.offer(wake, undefined)),
      ),
    )
    const apply = (usability: Usability) =>
      usability._tag === "Usable"
        ? Effect.zipRight(Ref.set(current, Option.some(usability.target)), latch.open)
        : Effect.zipRight(Ref.set(current, Option.none()), latch.close)
    const loop = Effect.gen(function* () {
      const usability = yield* checkUsability(api, store)
      yield* apply(usability)
      if (usability._tag === "Unknown") yield* Effect.raceFirst(Queue.take(wake), Effect.sleep(retryMs))
      else yield* Queue.take(wake)
    })
    yield* Effect.forkScoped(Effect.forever(loop))
    return {
      target: Ref.get(current),
      awaitUsable: latch.await,
      recheck: Effect.zipRight(latch.close, Queue.offer(wake, undefined)),
      poke: Effect.flatMap(Ref.get(current), (target) => (Option.isNone(target) ? Queue.offer(wake, undefined) : Effect.void)),
    }
  })
