import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { AuthSession } from "../services/AuthSession.js"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { authOptions, profile, store, verbose } from "./environment.js"
import { CliExit, ExitCode } from "./exit.js"
import { jsonOption, withJsonOutput } from "./jsonFlag.js"
import { notLoggedInHelp } from "./statusCommand.js"
import { noColor, withSafeConsole } from "./terminal.js"

/** `devicecode token`: a fresh access token on stdout and nothing else, for `curl -H "Authorization: Bearer …"`. */
const json = jsonOption(
  "Print {access_token, expires_at, profile} as one JSON object on stdout instead of the bare token"
)

export const tokenCommand = Command.make("token", { json, profile, store, noColor, verbose }, (options) =>
  Effect.gen(function* () {
    const session = yield* AuthSession
    // a person is told what to run next (as `status` tells it); --json keeps the bare NotLoggedIn error event
    const { accessToken, expiresAt } = yield* options.json
      ? session.token
      : Effect.catchTag(session.token, "NotLoggedIn", () =>
          Effect.flatMap(notLoggedInHelp("token", authOptions(options), Option.isSome(options.profile)), (help) =>
            Effect.zipRight(Console.error(`Error: ${help}`), Effect.fail(new CliExit({ code: ExitCode.failure })))
          )
        )
    if (!options.json) return yield* Console.log(Redacted.value(accessToken))
    const { target } = yield* DeviceCodeAuth.Setup
    yield* withJsonOutput(({ CliEvents, printJson }) =>
      printJson(CliEvents.TokenOutput, new CliEvents.TokenOutput({ accessToken, expiresAt, profile: target.profile }))
    )
  }).pipe(withSafeConsole)
)
  .pipe(Command.provide((options) => authFor(authOptions(options))))
  .pipe(
    Command.withDescription(
      described(
        "Print a fresh access token and nothing else (refreshed first when it is about to expire); exit 1 if not logged in or the refresh token is dead",
        "devicecode token --json"
      )
    )
  )
