// `devicecode logout`'s handler: no @effect/cli here, and loaded when the command runs (not for `logout --help`).
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { Setup } from "../layers/setup.js"
import { logout, LogoutEvent } from "../services/logout.js"
import { withSafeConsole } from "./terminal.js"
import { withJsonOutput } from "./withJsonOutput.js"

/** The warnings of a logout on stderr, each as it happens. */
const renderLogoutEvent = (event: LogoutEvent): Effect.Effect<void> =>
  LogoutEvent.$match(event, {
    RevokeFailed: ({ error }) =>
      Console.error(`Warning: could not revoke the token (${error.message}); removing the local sign-in anyway.`),
    StoreSetAside: ({ error, keptAs, revoked }) =>
      Console.error(
        `Warning: ${sanitize(error.message)}; ${Option.match(keptAs, {
          onNone: () => "removing it",
          onSome: (to) => `moved it to ${sanitize(to)}`
        })}${revoked ? "" : " without revoking"}.`
      )
  })

/** `devicecode logout`: the {@link logout} program, its warnings on stderr, then what it did. */
export const runLogout = (options: { readonly json: boolean }) =>
  Effect.gen(function* () {
    const { target } = yield* Setup
    // a named profile nobody signed in to gets no lock files; codex's auth.json gets them, as codex's logout makes them
    const onlyIfStored = target.profile !== DEFAULT_PROFILE
    const { removed, revoked } = yield* logout({ onEvent: renderLogoutEvent, onlyIfStored })
    yield* options.json
      ? withJsonOutput(({ CliEvents, printJson }) =>
          printJson(
            CliEvents.LoggedOutEvent,
            new CliEvents.LoggedOutEvent({ profile: target.profile, removed, revoked })
          )
        )
      : Console.log(removed ? "Successfully logged out" : "Not logged in")
  }).pipe(withSafeConsole)
