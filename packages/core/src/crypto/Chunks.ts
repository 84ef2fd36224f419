/** Synchronous per-item crypto in chunks, so long batches stay interruptible and fair to other fibers. */
import { Effect } from "effect"

/**
 * Maps a synchronous `f` over `items` in chunks of `chunkSize`, yielding to the scheduler between chunks so a long
 * batch neither starves other fibers nor ignores interruption. For backends whose per-item work is synchronous.
 */
export const inChunks = <A, B>(items: ReadonlyArray<A>, chunkSize: number, f: (item: A, index: number) => B): Effect.Effect<Array<B>> =>
  Effect.map(
    Effect.forEach(
      Array.from({ length: Math.ceil(items.length / chunkSize) }, (_, c) => c * chunkSize),
      (start) => Effect.sync(() => items.slice(start, start + chunkSize).map((item, i) => f(item, start + i))),
    ),
    (chunks) => chunks.flat(),
  )
