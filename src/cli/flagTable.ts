// The boolean flags of the commands the fast path runs, `status` and `token`: each key of the handler's input with
// its flag's name. This table is the one place those flags are named: statusCommand.ts and tokenCommand.ts make their
// @effect/cli options from it (booleanOptions.ts), and fastPath.ts reads argv with it. No @effect/cli here.

/** The boolean flags of `status` and `token`: input key → flag name (without `--`). */
export const booleanFlags = {
  status: { json: "json", all: "all", noColor: "no-color", verbose: "verbose" },
  token: { json: "json", noColor: "no-color", verbose: "verbose" }
} as const

/** A command the fast path may run. */
export type FastCommand = keyof typeof booleanFlags

/** The values of `command`'s boolean flags, by input key. */
export type FlagValues<C extends FastCommand> = { readonly [K in keyof (typeof booleanFlags)[C]]: boolean }

/** The values of `status`'s boolean flags. */
export type StatusFlags = FlagValues<"status">

/** The values of `token`'s boolean flags. */
export type TokenFlags = FlagValues<"token">
