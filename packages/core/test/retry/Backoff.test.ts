// The one backoff schedule: its delays by its own stepping, under TestClock, and through the hand-stepped form.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Ref, Schedule, TestClock } from "effect"
import { DEFAULT_BACKOFF, exponential, stepper } from "../../src/retry/Backoff.js"

const seconds = (delays: Iterable<Duration.Duration>) => [...delays].map((d) => Duration.toMillis(d) / 1000)

describe("Backoff", () => {
  it.effect("the default doubles from 1 s and stays at 16 s (PROTOCOL.md §8.2)", () =>
    Effect.gen(function* () {
      const delays = yield* Schedule.run(exponential(), 0, Array.from({ length: 7 }, () => undefined))
      expect(seconds(Chunk.toReadonlyArray(delays))).toEqual([1, 2, 4, 8, 16, 16, 16])
    }),
  )

  it.effect("keeps each caller's base, factor and cap, and the cap holds after thousands of failures", () =>
    Effect.gen(function* () {
      const delays = yield* Schedule.run(exponential({ base: "5 millis", max: "40 millis", factor: 3 }), 0, [1, 2, 3, 4])
      expect(Chunk.toReadonlyArray(delays).map(Duration.toMillis)).toEqual([5, 15, 40, 40])
      const long = yield* Schedule.run(exponential(DEFAULT_BACKOFF), 0, Array.from({ length: 3000 }, () => undefined))
      expect(Duration.toMillis(Chunk.unsafeLast(long))).toBe(16_000)
    }),
  )

  it.effect("under TestClock, retries happen after 1, 2 and 4 s", () =>
    Effect.gen(function* () {
      const tries = yield* Ref.make<Array<number>>([])
      const attempt = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(tries, (all) => [...all, now])).pipe(
        Effect.zipRight(Effect.fail("transient")),
      )
      const fiber = yield* Effect.fork(Effect.retry(attempt, Schedule.intersect(exponential(), Schedule.recurs(3))))
      for (const step of [1, 2, 4]) yield* TestClock.adjust(Duration.seconds(step))
      expect(yield* Effect.flip(Fiber.join(fiber))).toBe("transient")
      expect(yield* Ref.get(tries)).toEqual([0, 1000, 3000, 7000])
    }),
  )

  it.effect("stepper gives the same delays without sleeping, and reset starts over", () =>
    Effect.gen(function* () {
      const backoff = yield* stepper({ base: "1 second", max: "16 seconds" })
      const first = yield* Effect.all(Array.from({ length: 6 }, () => backoff.next))
      yield* backoff.reset
      expect([...seconds(first), ...seconds([yield* backoff.next])]).toEqual([1, 2, 4, 8, 16, 16, 1])
    }),
  )
})
