/**
 * Driving an effect that talks to the fake homeserver on the TestClock: its sleeps (backoffs, holds, gather
 * windows) come due at once while real I/O (the server, fetch) still gets turns of the event loop.
 */
import { Chunk, Clock, Effect, TestClock } from "effect"

/** Lets the event loop run (servers and fetch answer there); the TestClock does not move. */
export const ioTurn: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

/** Sleeps further off than this are request timeouts (60 s by default), which a driven test must never fire. */
const HORIZON_MS = 10_000

/** Runs `effect` to its end on the TestClock, moving the clock to each pending sleep (within 10 s) as it comes due. */
export const drivenByTestClock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (;;) {
      const exit = fiber.unsafePoll()
      if (exit !== null) return yield* exit
      const now = yield* Clock.currentTimeMillis
      const due = Chunk.filter(yield* TestClock.sleeps(), (at) => at - now <= HORIZON_MS)
      if (Chunk.isNonEmpty(due)) yield* TestClock.setTime(Math.min(...due))
      else yield* ioTurn
    }
  })
