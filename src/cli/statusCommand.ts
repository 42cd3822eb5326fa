import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { booleanOptions } from "./booleanOptions.js"
import { described } from "./described.js"
import { NO_COLOR, profile, store, VERBOSE_WITHOUT_HTTP } from "./environment.js"
import { booleanFlags } from "./flagTable.js"
import { statusLayer } from "./commandLayers.js"
import { loadedWhenRun } from "./loadedWhenRun.js"

const flags = booleanOptions(booleanFlags.status, {
  json: "Print the report as one JSON object on stdout (with --all, an array) and nothing else there",
  all: "List every profile (one line each; with --json, an array); exit 1 if none is signed in",
  noColor: NO_COLOR,
  verbose: VERBOSE_WITHOUT_HTTP
})

// --all is every profile; naming one as well is a contradiction, a usage error (exit 2)
const selection = Options.all({ all: flags.all, profile }).pipe(
  Options.mapEffect((chosen) =>
    chosen.all && Option.isSome(chosen.profile)
      ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("--all lists every profile: leave out --profile")))
      : Effect.succeed(chosen)
  )
)

/** `status`'s options, in the order of its help; the boolean ones made from {@link booleanFlags}. */
export const statusConfig = { json: flags.json, selection, store, noColor: flags.noColor, verbose: flags.verbose }

/** `devicecode status`: the handler is statusRun.ts's, which the fast path runs too. */
export const statusCommand = Command.make(
  "status",
  statusConfig,
  loadedWhenRun(
    () => import("./statusRun.js"),
    (run) => run.runStatus
  )
)
  .pipe(Command.provide(statusLayer))
  .pipe(
    Command.withDescription(
      described(
        "Show who is signed in and where the sign-in is stored (no network); exit 1 if nobody. --all lists every profile",
        "devicecode status --all"
      )
    )
  )
