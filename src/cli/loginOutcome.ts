import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { accountIdOf } from "../domain/SignInSummary.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import type { LoginResult } from "../services/login.js"
import { withJsonOutput } from "./jsonFlag.js"
import { whoText } from "./render.js"
import type { TerminalOutput } from "./terminal.js"
import { type LoginRenderer, makeLoginRenderer } from "./waitingScreen.js"

/** What an interrupted login (Ctrl-C) prints: a line on stderr, or the `Cancelled` error event with `--json`. */
export const tellCancelled = (json: boolean): Effect.Effect<void> =>
  json
    ? withJsonOutput(({ CliEvents, printJson }) =>
        printJson(
          CliEvents.ErrorEvent,
          new CliEvents.ErrorEvent({ code: "Cancelled", reason: Option.none(), message: "Login cancelled" })
        )
      )
    : Console.error("\nLogin cancelled")

/** What a finished login prints on stdout: who signed in (never a token), as a line or the `logged_in` event. */
export const tellLoggedIn = (result: LoginResult, json: boolean): Effect.Effect<void, never, DeviceCodeAuth.Setup> =>
  Effect.gen(function* () {
    const { target } = yield* DeviceCodeAuth.Setup
    if (json) {
      return yield* withJsonOutput(({ CliEvents, printJson }) =>
        printJson(
          CliEvents.LoggedInEvent,
          new CliEvents.LoggedInEvent({
            method: target.dialect === "codex" ? "chatgpt" : "oidc",
            email: result.claims.email,
            plan: result.claims.plan,
            accountId: accountIdOf(result.record, result.claims),
            profile: target.profile
          })
        )
      )
    }
    const where = target.profile === DEFAULT_PROFILE ? "" : ` (profile ${target.profile})`
    const to = target.dialect === "codex" ? "" : ` to ${sanitize(target.issuer)}`
    yield* Console.log(`Successfully logged in${to} as ${whoText(result.claims)}${where}`)
  })

/** How a login shows its events: NDJSON on stdout with `json`, else the terminal's waiting screen (for the scope). */
export const loginRenderer = (json: boolean): Effect.Effect<LoginRenderer, never, TerminalOutput | Scope.Scope> =>
  json ? withJsonOutput((output) => Effect.succeed(output.jsonLoginRenderer)) : makeLoginRenderer
