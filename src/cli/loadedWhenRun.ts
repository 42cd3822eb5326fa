import * as Effect from "effect/Effect"

/**
 * A command's handler whose module `load` imports when the command runs, not when the command is defined: a `--help`
 * (and the other commands) never evaluate a handler's modules. `handler` picks the handler out of the module.
 */
export const loadedWhenRun =
  <M, I, A, E, R>(load: () => Promise<M>, handler: (module: M) => (input: I) => Effect.Effect<A, E, R>) =>
  (input: I): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.promise(load), (module) => handler(module)(input))
