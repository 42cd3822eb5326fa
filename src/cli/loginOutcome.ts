import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { accountIdOf } from "../domain/SignInSummary.js"
import { Setup } from "../layers/setup.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import type { IssuerResolver } from "../services/IssuerResolver.js"
import type { LoginResult } from "../services/login.js"
import { logout } from "../services/logout.js"
import { withJsonOutput } from "./withJsonOutput.js"
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

/**
 * A login into the `ephemeral` store keeps nothing once the command ends: rather than leave its tokens live at the
 * issuer with no one holding them, it revokes them at once, and says so (on stderr; with `--json`, silently).
 */
const endEphemeral = (json: boolean): Effect.Effect<void, never, Setup | CredentialStore | IssuerResolver> =>
  Effect.gen(function* () {
    const { store } = yield* Setup
    if (store !== "ephemeral") return
    const revoked = yield* logout().pipe(
      Effect.map((result) => result.revoked),
      Effect.orElseSucceed(() => false)
    )
    if (json) return
    yield* Console.error(
      revoked
        ? "--store ephemeral keeps nothing: the sign-in ends with this command, and its tokens were revoked at the issuer."
        : "--store ephemeral keeps nothing: the sign-in ends with this command. Its tokens could not be revoked, and stay valid until they expire."
    )
  })

/**
 * What a finished login prints on stdout: who signed in (never a token), as a line or the `logged_in` event; then, for
 * the `ephemeral` store, the tokens revoked (see {@link endEphemeral}).
 */
export const tellLoggedIn = (
  result: LoginResult,
  json: boolean
): Effect.Effect<void, never, Setup | CredentialStore | IssuerResolver> =>
  Effect.zipRight(tellSignedIn(result, json), endEphemeral(json))

const tellSignedIn = (result: LoginResult, json: boolean): Effect.Effect<void, never, Setup> =>
  Effect.gen(function* () {
    const { target } = yield* Setup
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
