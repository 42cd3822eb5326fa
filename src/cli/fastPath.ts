// Which runs skip @effect/cli: the fast path. Decided before any @effect/cli module is evaluated, from argv and the
// table of boolean flags the commands' options are made from (flagTable.ts), so there is no second parser to drift.
import { booleanFlags, type FlagValues } from "./flagTable.js"

/** A run the fast path takes: `status` or `token` with the values of its boolean flags. */
export type FastRun =
  | { readonly command: "status"; readonly flags: FlagValues<"status"> }
  | { readonly command: "token"; readonly flags: FlagValues<"token"> }

/** The environment variable that, set to `off`, sends every run through @effect/cli's parser (the tests compare). */
export const FAST_PATH_SWITCH = "DEVICECODE_FAST_PATH"

/**
 * The fast path's run for `args` (argv after node and the script), when they are exactly `status` or `token`
 * followed only by that command's boolean flags, each at most once, in any order. Anything else (a value option,
 * `--`, help, `--wizard`, `--completions`, `--version`, an unknown or repeated flag, `--flag=value`) is undefined:
 * @effect/cli parses it, and reports what is wrong with it.
 */
export const fastPathOf = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): FastRun | undefined => {
  if (env[FAST_PATH_SWITCH] === "off") return undefined
  const command = args[0]
  if (command !== "status" && command !== "token") return undefined
  const table: Readonly<Record<string, string>> = booleanFlags[command]
  const keyOf = new Map(Object.entries(table).map(([key, name]) => [`--${name}`, key]))
  const flags: Record<string, boolean> = Object.fromEntries(Object.keys(table).map((key) => [key, false]))
  for (const word of args.slice(1)) {
    const key = keyOf.get(word)
    if (key === undefined || flags[key]) return undefined
    flags[key] = true
  }
  return { command, flags } as FastRun
}
