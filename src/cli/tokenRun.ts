// `devicecode token`'s handler: no @effect/cli here, so that the fast path (fastPath.ts) runs it without evaluating
// the parser. tokenCommand.ts makes the command of it.
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { CredentialsStoreKind } from "../domain/CodexConfig.js"
import { Setup } from "../layers/setup.js"
import { AuthSession } from "../services/AuthSession.js"
import { authOptions } from "./authOptions.js"
import { CliExit, ExitCode } from "./exit.js"
import type { TokenFlags } from "./flagTable.js"
import { notLoggedInHelp } from "./notLoggedIn.js"
import { withSafeConsole } from "./terminal.js"
import { withJsonOutput } from "./withJsonOutput.js"

/** What @effect/cli hands `token`'s handler. */
export interface TokenInput {
  readonly json: boolean
  readonly profile: Option.Option<string>
  readonly store: Option.Option<CredentialsStoreKind>
  readonly noColor: boolean
  readonly verbose: boolean
}

/** The input of a `token` given only boolean flags: what the fast path runs (test/fastPath.test.ts checks it). */
export const tokenInput = (flags: TokenFlags): TokenInput => ({
  json: flags.json,
  profile: Option.none(),
  store: Option.none(),
  noColor: flags.noColor,
  verbose: flags.verbose
})

/** `devicecode token`: a fresh access token on stdout and nothing else, for `curl -H "Authorization: Bearer …"`. */
export const runToken = (options: TokenInput) =>
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
    const { target } = yield* Setup
    yield* withJsonOutput(({ CliEvents, printJson }) =>
      printJson(CliEvents.TokenOutput, new CliEvents.TokenOutput({ accessToken, expiresAt, profile: target.profile }))
    )
  }).pipe(withSafeConsole)
