import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"

/** A request's outcome, and when (epoch ms) its caller was interrupted while waiting for it, if it was. */
export interface Answer<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly interruptedAt: Option.Option<number>
}

/**
 * Runs `request` — a refresh, which spends the stored refresh token once it is sent — so that interrupting the caller
 * does not throw its answer away. Called inside an uninterruptible region with that region's `restore`: the answer is
 * waited for interruptibly; if the caller is interrupted while the request is out, `onWait` is told and the answer is
 * still waited for, up to `grace`, after which the request is cut (its exit is then an interruption). The caller saves
 * an answer before its region ends, and the interruption takes effect after that.
 */
export const awaitAnswer = <A, E>(
  request: Effect.Effect<A, E>,
  restore: <X, Y, Z>(self: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  grace: Duration.Duration,
  onWait: Effect.Effect<void>
): Effect.Effect<Answer<A, E>> =>
  Effect.gen(function* () {
    // a daemon: an interrupted fiber passes the interruption on to its children at once, which would cut the request
    const fiber = yield* Effect.forkDaemon(Effect.interruptible(request))
    const joined = yield* Effect.exit(restore(Fiber.join(fiber)))
    // only the caller's wait can have been interrupted here: nothing else interrupts the request yet
    if (!Exit.isInterrupted(joined)) return { exit: joined, interruptedAt: Option.none() }
    const interruptedAt = Option.some(yield* Clock.currentTimeMillis)
    const done = yield* Fiber.poll(fiber)
    if (Option.isSome(done)) return { exit: done.value, interruptedAt }
    yield* onWait
    // the cut runs on its own fiber, interruptible, so that it ends once the answer came in time
    const cut = yield* Effect.forkDaemon(
      Effect.interruptible(Effect.zipRight(Effect.sleep(grace), Fiber.interruptFork(fiber)))
    )
    const exit = yield* Fiber.await(fiber)
    yield* Fiber.interruptFork(cut)
    return { exit, interruptedAt }
  })
