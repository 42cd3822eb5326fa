import * as Command from "@effect/cli/Command"
import { booleanOptions } from "./booleanOptions.js"
import { described } from "./described.js"
import { NO_COLOR, profile, store, VERBOSE_HTTP } from "./environment.js"
import { booleanFlags } from "./flagTable.js"
import { tokenLayer } from "./commandLayers.js"
import { loadedWhenRun } from "./loadedWhenRun.js"

const flags = booleanOptions(booleanFlags.token, {
  json: "Print {access_token, expires_at, profile} as one JSON object on stdout instead of the bare token",
  noColor: NO_COLOR,
  verbose: VERBOSE_HTTP
})

/** `token`'s options, in the order of its help; the boolean ones made from {@link booleanFlags}. */
export const tokenConfig = { json: flags.json, profile, store, noColor: flags.noColor, verbose: flags.verbose }

/** `devicecode token`: the handler is tokenRun.ts's, which the fast path runs too. */
export const tokenCommand = Command.make(
  "token",
  tokenConfig,
  loadedWhenRun(
    () => import("./tokenRun.js"),
    (run) => run.runToken
  )
)
  .pipe(Command.provide(tokenLayer))
  .pipe(
    Command.withDescription(
      described(
        "Print a fresh access token and nothing else (refreshed first when it is about to expire); exit 1 if not logged in or the refresh token is dead",
        "devicecode token --json"
      )
    )
  )
