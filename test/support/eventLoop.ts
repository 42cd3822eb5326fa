import { Effect } from "effect"

/**
 * Lets the test worker's event loop turn once (setImmediate: after its pending I/O), on any Clock, TestClock too.
 *
 * A loop of in-process effects that resume one another by promises is a chain of microtasks: the event loop never
 * turns while it runs, so the worker cannot read vitest's answers to its own messages, and vitest fails the whole run
 * ("Timeout calling onTaskUpdate") when that lasts 60 s, as a fuzz file of some thousand cases does on a loaded
 * machine. Such a loop yields this once per case.
 */
export const letEventLoopTurn: Effect.Effect<void> = Effect.promise(
  () => new Promise<void>((resolve) => setImmediate(resolve))
)
