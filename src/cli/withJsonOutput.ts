import * as Effect from "effect/Effect"

/**
 * Runs `use` with the JSON output module (printJson, the CliEvents schemas, the error events), loaded on first use:
 * building its schemas costs start-up time that only runs with --json (or a failure to print as JSON) should pay.
 */
export const withJsonOutput = <A, E, R>(
  use: (output: typeof import("./jsonOutput.js")) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.promise(() => import("./jsonOutput.js")),
    use
  )
