/**
 * What the calling thread and the restore worker (Node worker thread or Web Worker) say to each other: the job, then
 * from the worker progress, skipped keys, batches of decrypted keys to import and the outcome; to the worker, an
 * answer per batch and abort. Messages are structured-cloned; each side decodes what it receives.
 */
import { RestoreError } from "@matrix-backup/core"
import { Predicate, Schema } from "effect"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"

/** The restore the worker runs. The token and key cross into our own thread's memory only. */
export const RestoreJob = Schema.Struct({
  baseUrl: Schema.String,
  accessToken: Schema.String,
  userId: Schema.String,
  privateKey: Schema.Uint8ArrayFromSelf,
  version: Schema.optional(Schema.String),
  batchSize: Schema.Number,
  decryptionThreads: Schema.optional(Schema.Number),
  decryptWorkerEntry: Schema.optional(Schema.String),
})
export type RestoreJob = typeof RestoreJob.Type

const FailureReason = Schema.Literal(...RestoreError.FAILURE_REASONS)

/** Why the worker's restore stopped (core's `RestoreError` reasons). */
export const StopReason = Schema.Literal(
  "NoDecryptionKey",
  "BackupVersionNotFound",
  "DecryptionKeyDoesNotMatch",
  "UnsupportedAlgorithm",
  "NotPassphraseBackup",
  "HomeserverFailure",
  "StoreFailure",
  "Aborted",
)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
// Kept equal to core's reasons: this fails to compile when either side gains a reason.
const reasonsMatch: Same<RestoreError.RestoreError["reason"], typeof StopReason.Type> = true
void reasonsMatch

/** A decrypted key in js-sdk's export shape, as the worker built it (checked only for being an object). */
const SessionData = Schema.declare((u: unknown): u is IMegolmSessionData => Predicate.isRecord(u))

const Progress = Schema.Union(
  Schema.Struct({ stage: Schema.Literal("fetch") }),
  Schema.Struct({ stage: Schema.Literal("load_keys"), total: Schema.Number, successes: Schema.Number, failures: Schema.Number }),
)

/** Worker to calling thread. */
export const FromWorker = Schema.Union(
  Schema.TaggedStruct("Progress", { progress: Progress }),
  Schema.TaggedStruct("Failure", { roomId: Schema.String, sessionId: Schema.String, reason: FailureReason, version: Schema.String }),
  Schema.TaggedStruct("Batch", { id: Schema.Number, version: Schema.String, keys: Schema.Array(SessionData) }),
  Schema.TaggedStruct("Done", {
    total: Schema.Number,
    imported: Schema.Number,
    failures: Schema.Record({ key: FailureReason, value: Schema.Number }),
    failed: Schema.Array(Schema.Struct({ roomId: Schema.String, sessionId: Schema.String, reason: FailureReason })),
  }),
  Schema.TaggedStruct("Stopped", { reason: StopReason, message: Schema.String, version: Schema.optional(Schema.String) }),
  Schema.TaggedStruct("Crashed", { message: Schema.String }),
)
export type FromWorker = typeof FromWorker.Type

/** Calling thread to worker: the job (browsers, where a worker gets no start data), whether js-sdk accepted batch `id`, or stop. */
export const ToWorker = Schema.Union(
  Schema.TaggedStruct("Start", { job: RestoreJob }),
  Schema.TaggedStruct("Imported", { id: Schema.Number, ok: Schema.Boolean }),
  Schema.TaggedStruct("Abort", {}),
)
export type ToWorker = typeof ToWorker.Type
