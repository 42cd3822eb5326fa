import { Clock, Effect, Schedule } from "effect"

/** Waits (real time, a look every 20 ms, `timeoutMs` at most, 15 s by default) until `check` holds; dies naming `what`. */
export const eventually = (what: string, check: Effect.Effect<boolean>, timeoutMs = 15_000): Effect.Effect<void> =>
  check.pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => `not within ${timeoutMs} ms: ${what}` }),
    Effect.orDie,
    Effect.asVoid
  )

/** What `self` gave, and how long it took in milliseconds of the Clock in use. */
export const timed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const value = yield* self
    return { value, millis: (yield* Clock.currentTimeMillis) - start }
  })
