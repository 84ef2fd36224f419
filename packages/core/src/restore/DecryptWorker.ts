/**
 * Backup decryption on a pool of `@effect/platform` Workers: a `CryptoBackend` whose `decryptSessions` sends each
 * batch to a worker, and the runner those workers execute. The platform (NodeWorker / BrowserWorker and their
 * runners) is given by the caller's layers, so this file stays portable (DESIGN.md §4).
 */
import { Worker, WorkerRunner } from "@effect/platform"
import type { WorkerError } from "@effect/platform/WorkerError"
import { Context, Effect, Either, Fiber, Layer, Redacted, Schema, Scope } from "effect"
import { BackupDecryptionError } from "../crypto/MegolmBackupV1.js"
import { CryptoBackend } from "../services/CryptoBackend.js"

const Field = Schema.Literal("ephemeral", "ciphertext", "mac")
const Reason = Schema.Literal("BadBase64", "BadLength", "WeakSharedSecret", "BadMac", "BadPadding")

/** One decryption outcome as it crosses the worker boundary. */
export const DecryptOutcome = Schema.Union(
  Schema.TaggedStruct("Plaintext", { bytes: Schema.Uint8ArrayFromSelf }),
  Schema.TaggedStruct("Failed", { reason: Reason, field: Schema.optional(Field) }),
)
export type DecryptOutcome = typeof DecryptOutcome.Type

/** The one request a decryption worker serves. The private key crosses as bytes (worker memory is ours). */
export class DecryptBatch extends Schema.TaggedRequest<DecryptBatch>()("DecryptBatch", {
  failure: Schema.Never,
  success: Schema.Array(DecryptOutcome),
  payload: {
    privateKey: Schema.Uint8ArrayFromSelf,
    items: Schema.Array(Schema.Struct({ ephemeral: Schema.String, ciphertext: Schema.String, mac: Schema.String })),
  },
}) {}

const toOutcome = (result: Either.Either<Uint8Array, BackupDecryptionError>): DecryptOutcome =>
  Either.match(result, {
    onLeft: (error) => ({ _tag: "Failed", reason: error.reason, ...(error.field === undefined ? {} : { field: error.field }) }),
    onRight: (bytes) => ({ _tag: "Plaintext", bytes }),
  })

const fromOutcome = (outcome: DecryptOutcome): Either.Either<Uint8Array, BackupDecryptionError> =>
  outcome._tag === "Plaintext"
    ? Either.right(outcome.bytes)
    : Either.left(new BackupDecryptionError({ reason: outcome.reason, ...(outcome.field === undefined ? {} : { field: outcome.field }) }))

/** What a worker runs: serves `DecryptBatch` with the `CryptoBackend` it is given. Launch with `WorkerRunner.launch`. */
export const layerRunner = WorkerRunner.layerSerialized(DecryptBatch, {
  DecryptBatch: (request) =>
    Effect.flatMap(CryptoBackend, (backend) =>
      Effect.map(backend.decryptSessions(Redacted.make(request.privateKey), request.items), (results) => results.map(toOutcome)),
    ),
})

/** The pool as it starts (internal to the backend below): awaiting it waits until the first worker has loaded. */
class DecryptPool extends Context.Tag("@matrix-backup/core/DecryptWorker/DecryptPool")<
  DecryptPool,
  Effect.Effect<Worker.SerializedWorkerPool<DecryptBatch>, WorkerError>
>() {}

/**
 * Starts the pool in the background: the platform's pool waits for its first worker to load before it is returned,
 * which would hold up everything a command does before its first batch (whoami, Secret Storage, the key check).
 */
const layerStartingPool = (size: number, concurrency: number) =>
  Layer.scoped(
    DecryptPool,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const starting = yield* Effect.forkIn(Scope.extend(Worker.makePoolSerialized<DecryptBatch>({ size, concurrency }), scope), scope)
      return Fiber.join(starting)
    }),
  )

/**
 * Items per request to a worker. A larger batch is split into requests of this size and spread over the pool, so one
 * call uses every worker and no worker ever holds more than this many sessions (its memory stays small and bounded).
 */
export const MAX_ITEMS_PER_REQUEST = 512

/** Pool shape: how many workers, and how many requests each may hold at once. */
export interface PoolOptions {
  readonly size: number
  /**
   * Requests a worker holds at once (default 2): with two, the next batch is already waiting in the worker when one
   * finishes, instead of being sent only once the calling thread gets round to reading the answer.
   */
  readonly requestsPerWorker?: number | undefined
}

/**
 * A `CryptoBackend` that decrypts on `size` workers and does everything else with the local backend it wraps.
 * Needs the platform's `WorkerManager` and `Spawner` (e.g. `NodeWorker.layer(spawn)`).
 */
export const layerPool = (options: PoolOptions) => {
  const size = Math.max(1, options.size)
  const requestsPerWorker = Math.max(1, Math.floor(options.requestsPerWorker ?? 2))
  return Layer.effect(
    CryptoBackend,
    Effect.gen(function* () {
      const local = yield* CryptoBackend
      const started = yield* DecryptPool
      const request = (privateKey: Uint8Array, items: ReadonlyArray<DecryptBatch["items"][number]>) =>
        Effect.flatMap(started, (pool) =>
          Effect.map(pool.executeEffect(new DecryptBatch({ privateKey, items })), (outcomes) => outcomes.map(fromOutcome)),
        )
      const service: Context.Tag.Service<CryptoBackend> = {
        ...local,
        decryptSessions: (privateKey, items) => {
          if (items.length === 0) return Effect.succeed([])
          const slices = Array.from({ length: Math.ceil(items.length / MAX_ITEMS_PER_REQUEST) }, (_, i) =>
            items.slice(i * MAX_ITEMS_PER_REQUEST, (i + 1) * MAX_ITEMS_PER_REQUEST),
          )
          return Effect.forEach(slices, (slice) => request(Redacted.value(privateKey), slice), { concurrency: size }).pipe(
            Effect.map((results) => results.flat()),
            // A worker that crashes or cannot be spawned is a broken installation, not a per-key failure.
            Effect.orDie,
          )
        },
      }
      return service
    }),
  ).pipe(Layer.provide(layerStartingPool(size, requestsPerWorker)))
}
