import { assert } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { type Flock, loadFsExt } from "../../src/layers/flock.js"
import type { CredentialStore } from "../../src/services/CredentialStore.js"

/**
 * Two stores on one path, one process: `first` holds its lock (`locked`, or `exclusive` with `lock`) while `whileHeld`
 * runs, `second` asks for it and must wait (`waiting` says when it is waiting) until `first` lets go. Checks the order
 * of what happened.
 */
export const assertExclusion = (
  first: CredentialStore["Type"],
  second: CredentialStore["Type"],
  options: {
    readonly waiting: Effect.Effect<void>
    readonly whileHeld?: Effect.Effect<void>
    readonly lock?: "locked" | "exclusive"
  }
) =>
  Effect.gen(function* () {
    const events = yield* Ref.make<ReadonlyArray<string>>([])
    const log = (event: string) => Ref.update(events, (all) => [...all, event])
    const entered = yield* Deferred.make<void>()
    const leave = yield* Deferred.make<void>()
    const lock = options.lock ?? "locked"
    const holding = yield* Effect.fork(
      first[lock](
        Effect.all([log("first in"), Deferred.succeed(entered, undefined), Deferred.await(leave), log("first out")])
      )
    )
    yield* Deferred.await(entered)
    if (options.whileHeld) yield* options.whileHeld
    const waiting = yield* Effect.fork(second[lock](log("second in")))
    yield* options.waiting
    assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "the second store waits")
    yield* Deferred.succeed(leave, undefined)
    yield* Fiber.join(holding)
    yield* TestClock.adjust("100 millis")
    yield* Fiber.join(waiting)
    assert.deepStrictEqual(yield* Ref.get(events), ["first in", "first out", "second in"])
  })

/** The real flock(2) of fs-ext, counting the tries that found a lock taken (`counts.busy`). */
export const spiedFlock = Effect.gen(function* () {
  const flock = yield* Effect.orDie(loadFsExt)
  const counts = { busy: 0 }
  const spied: Flock = {
    tryLock: (fd) => {
      const taken = flock.tryLock(fd)
      if (!taken) counts.busy++
      return taken
    },
    unlock: flock.unlock
  }
  return { source: Effect.succeed(Option.some(spied)), counts }
})
