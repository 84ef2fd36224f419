/**
 * The first step of a reset (PROTOCOL.md §8.5): delete every backup version, in a loop until the server has none.
 * GET latest / DELETE works where a delete makes an older live version current (Synapse, conduwuit). Dendrite's
 * "latest" counts deleted versions, so after its latest is deleted it answers 404 while older ones live on: those
 * are looked for by number below the lowest deleted one, and at the version this device holds a key for.
 */
import { type Context, Effect, Either, Option } from "effect"
import { BackupVersion } from "../schema/Ids.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { EngineError, fromHomeserver } from "./EngineError.js"

/** A server that still answers after this many deletes is not behaving like any known server. */
const MAX_DELETES = 1000
/** How many numbers below the lowest deleted version are asked about (versions are small integers on every server). */
const PROBE_DEPTH = 100

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

/** Versions "latest" may hide: the one we hold a key for, and the numbers below the lowest deleted one. */
const hiddenCandidates = (deleted: ReadonlySet<string>, held: Option.Option<string>): Array<string> => {
  const numbers = [...deleted].map(Number).filter((n) => Number.isSafeInteger(n) && n > 0)
  const lowest = numbers.length === 0 ? 1 : Math.min(...numbers)
  const below = Array.from({ length: Math.min(PROBE_DEPTH, lowest - 1) }, (_, i) => String(lowest - 1 - i))
  const candidates = Option.isSome(held) ? [held.value, ...below] : below
  return [...new Set(candidates)].filter((version) => !deleted.has(version))
}

/** Deletes every version the server has, including those its "latest" no longer shows. */
export const deleteAllVersions = (api: Api, held: Option.Option<string>): Effect.Effect<void, EngineError> =>
  Effect.gen(function* () {
    const deleted = new Set<string>()
    yield* deleteLatestUntilNone(api, deleted)
    for (const candidate of hiddenCandidates(deleted, held)) {
      const version = BackupVersion.make(candidate)
      const found = yield* Effect.either(api.getBackupVersion(version))
      if (Either.isLeft(found)) {
        if (found.left._tag === "BackupNotFound") continue
        return yield* Effect.fail(fromHomeserver("deleteOldVersions", found.left))
      }
      yield* deleteOne(api, version, deleted)
    }
  }).pipe(Effect.withSpan("KeyBackupEngine.deleteAllVersions"))
