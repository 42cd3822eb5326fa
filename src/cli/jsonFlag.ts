import * as Options from "@effect/cli/Options"

/** `--json` on login and logout, with what it prints for that command (status and token: flagTable.ts). */
export const jsonOption = (prints: string) => Options.boolean("json").pipe(Options.withDescription(prints))
