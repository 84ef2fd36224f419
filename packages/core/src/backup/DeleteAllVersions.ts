/**
 * The first step of a reset (PROTOCOL.md §8.5): delete every backup version, in a loop until the server has none.
 * GET latest / DELETE works where a delete makes an older live version current (Synapse, conduwuit). Dendrite's
 * "latest" counts deleted versions, so after its latest is deleted it answers 404 while older ones live on: those
 * are looked for at the versions this device knows, below the lowest deleted one and, once the reset made its new
 * version, below that one (a bounded window, a few requests at a time).
 */
import { type Context, Effect, Either } from "effect"
import { BackupVersion } from "../schema/Ids.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { EngineError, fromHomeserver } from "./EngineError.js"

/** A server that still answers after this many deletes is not behaving like any known server. */
const MAX_DELETES = 1000
/** How many numbers below a version are asked about (versions are small integers, per user on all but Dendrite). */
const PROBE_WINDOW = 32
/** How many of those questions are in flight at once. */
const PROBE_CONCURRENCY = 4
/**
 * Above this a version number is no serial: Palpo numbers versions by their creation time in milliseconds, so the
 * numbers just below one were never versions (and its "latest" hides none). No window is asked below such a number.
 */
const MAX_SERIAL = 2 ** 32

type Api = Context.Tag.Service<HomeserverApi>

const misbehaves = (message: string) => new EngineError({ reason: "ServerMisbehaves", step: "deleteOldVersions", message: `deleteOldVersions: ${message}` })

/** DELETE one version; a 404 means another device deleted it first, which is what we wanted. */
const deleteOne = (api: Api, version: BackupVersion, deleted: Set<string>) =>
  api.deleteBackupVersion(version).pipe(
    Effect.catchIf((e) => e._tag === "BackupNotFound", () => Effect.void),
    Effect.mapError((e) => fromHomeserver("deleteOldVersions", e)),
    Effect.tap(() => Effect.sync(() => void deleted.add(version))),
  )

/** GET latest / DELETE until 404; a version that comes back after its delete means the delete did nothing. */
const deleteLatestUntilNone = (api: Api, deleted: Set<string>) =>
  Effect.gen(function* () {
    while (deleted.size < MAX_DELETES) {
      const latest = yield* Effect.either(api.getBackupVersion())
      if (Either.isLeft(latest)) {
        if (latest.left._tag === "BackupNotFound") return
        return yield* Effect.fail(fromHomeserver("deleteOldVersions", latest.left))
      }
      const version = latest.right.version
      if (version === undefined) return yield* Effect.fail(misbehaves("the latest version has no number"))
      if (deleted.has(version)) return yield* Effect.fail(misbehaves(`version ${version} is still there after its delete`))
      yield* deleteOne(api, version, deleted)
    }
    return yield* Effect.fail(misbehaves("the server keeps reporting a backup"))
  })

/** The `PROBE_WINDOW` numbers below `top` (exclusive), highest first; none when `top` is not a serial's number. */
const below = (top: number): Array<string> =>
  Number.isSafeInteger(top) && top > 1 && top <= MAX_SERIAL ? Array.from({ length: Math.min(PROBE_WINDOW, top - 1) }, (_, i) => String(top - 1 - i)) : []

/** GET each candidate not yet seen (a few at a time); DELETE the live ones. Every candidate joins `seen`; returns how many were live. */
const deleteLiveAmong = (api: Api, candidates: ReadonlyArray<string>, seen: Set<string>) =>
  Effect.map(
    Effect.forEach(
      [...new Set(candidates)].filter((candidate) => !seen.has(candidate)),
      (candidate) =>
        Effect.gen(function* () {
          seen.add(candidate)
          const version = BackupVersion.make(candidate)
          const found = yield* Effect.either(api.getBackupVersion(version))
          if (Either.isLeft(found)) {
            if (found.left._tag === "BackupNotFound") return false
            return yield* Effect.fail(fromHomeserver("deleteOldVersions", found.left))
          }
          yield* deleteOne(api, version, seen)
          return true
        }),
      { concurrency: PROBE_CONCURRENCY },
    ),
    (live) => live.filter(Boolean).length,
  )

/** Windows of numbers downwards from `top`, while each window still finds a live version (each hides the next). */
const sweepBelow = (api: Api, top: number, seen: Set<string>) =>
  Effect.gen(function* () {
    let next = top
    while (next > 1 && seen.size < MAX_DELETES) {
      const live = yield* deleteLiveAmong(api, below(next), seen)
      if (live === 0) return
      next -= PROBE_WINDOW
    }
  })

/**
 * Deletes every version the server has, including those its "latest" no longer shows that can be found: the versions
 * this device knows (`known`: the held key's, the last active one) and, window by window while live ones turn up,
 * the numbers below the lowest deleted one.
 * Returns every version deleted or found absent, for `deleteHiddenBelow`.
 */
export const deleteAllVersions = (api: Api, known: ReadonlyArray<string>): Effect.Effect<DeletedVersions, EngineError> =>
  Effect.gen(function* () {
    const deleted = new Set<string>()
    yield* deleteLatestUntilNone(api, deleted)
    const numbers = [...deleted].map(Number).filter((n) => Number.isSafeInteger(n) && n > 0)
    const seen = new Set(deleted)
    yield* deleteLiveAmong(api, known, seen)
    if (numbers.length > 0) yield* sweepBelow(api, Math.min(...numbers), seen)
    return { seen, latestWasLive: deleted.size > 0 }
  }).pipe(Effect.withSpan("KeyBackupEngine.deleteAllVersions"))

/** What `deleteAllVersions` asked about, and whether "latest" named a live version at all. */
export interface DeletedVersions {
  readonly seen: ReadonlySet<string>
  readonly latestWasLive: boolean
}

/**
 * After the new version `created` exists: every older version has a lower number, so the numbers just below it are
 * where a version hidden behind a deleted "latest" (Dendrite) is when nothing in this run pointed at it; windows go on
 * down while live ones turn up. Numbers in `seen` are not asked again. Only needed when "latest" was 404 from the
 * start: a version hidden behind one this run deleted lies below that one, which `deleteAllVersions` searched. A hidden version further down on a server with a shared serial (Dendrite numbers every
 * user's versions from one sequence) is not found: no endpoint lists a user's versions (PROTOCOL.md §8.5).
 */
export const deleteHiddenBelow = (api: Api, created: string, seen: ReadonlySet<string>): Effect.Effect<void, EngineError> =>
  sweepBelow(api, Number(created), new Set([...seen, created])).pipe(Effect.withSpan("KeyBackupEngine.deleteHiddenBelow"))
