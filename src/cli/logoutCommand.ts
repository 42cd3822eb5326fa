import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { sanitize } from "../domain/Sanitize.js"
import { authMethod, type StoredAuth } from "../domain/StoredAuth.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { IssuerResolver } from "../services/IssuerResolver.js"
import { revokeBound } from "../services/schedules.js"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { profile, store, storeCommandOptions, verbose } from "./environment.js"
import { jsonOption, withJsonOutput } from "./jsonFlag.js"
import { noColor, withSafeConsole } from "./terminal.js"

/**
 * Best-effort revocation at the issuer the sign-in came from, capped at 10 s; true if it was revoked. As codex does
 * (codex-protocol.md §9): the refresh token, or the access token when there is none.
 */
const revokeStored = (auth: StoredAuth) =>
  Option.match(
    Option.flatMap(auth.tokens, (tokens) => {
      const present = (token: Option.Option<Redacted.Redacted<string>>) =>
        Option.filter(token, (value) => Redacted.value(value) !== "")
      return Option.orElse(
        Option.map(present(tokens.refreshToken), (token) => [token, "refresh_token"] as const),
        () => Option.map(present(Option.some(tokens.accessToken)), (token) => [token, "access_token"] as const)
      )
    }),
    {
      onNone: () => Effect.succeed(false),
      onSome: ([token, hint]) =>
        Effect.flatMap(IssuerResolver, (resolver) => resolver.forSignIn(auth.origin)).pipe(
          Effect.flatMap((issuer) => issuer.revoke(token, hint)),
          Effect.timeoutFail({ duration: revokeBound, onTimeout: () => "no answer within 10 s" }),
          Effect.as(true),
          Effect.catchAll((error) =>
            Effect.as(
              Console.error(
                `Warning: could not revoke the token (${typeof error === "string" ? error : error.message}); removing the local sign-in anyway.`
              ),
              false
            )
          )
        )
    }
  )

const json = jsonOption("Print what was done (removed, revoked) as one JSON object on stdout and nothing else there")

const signedIn = (auth: Option.Option<StoredAuth>) => Option.exists(auth, (a) => Option.isSome(authMethod(a)))

/**
 * `devicecode logout`: load and revoke holding the store's `exclusive` lock only (codex waits for its own lock with no
 * timeout, so no request goes out under it), then load again and remove under codex's lock. A record another program
 * wrote in between is removed too (a logout is a logout), though only the one read first was revoked. A stored record
 * that holds no sign-in (`{}`, an API-key record without a key) is removed too, but that is "Not logged in", as
 * `status` and `token` see it; an unreadable one was a sign-in once, and removing it is a logout.
 */
export const logoutCommand = Command.make("logout", { json, profile, store, noColor, verbose }, (options) =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    // our own lock: a refresh of ours in flight ends first, and the refresh token it brought is the one revoked
    const { removed, revoked } = yield* store.exclusive(
      Effect.gen(function* () {
        const read = yield* store.load.pipe(
          Effect.catchIf(
            (error) => error.reason === "Corrupt",
            () => Effect.succeedNone
          )
        )
        const revoked = signedIn(read) && Option.isSome(read) ? yield* revokeStored(read.value) : false
        return yield* store.locked(
          Effect.gen(function* () {
            const existing = yield* store.load.pipe(
              Effect.map((auth) => ({ signedIn: signedIn(auth) || signedIn(read), keptAside: false })),
              Effect.catchIf(
                (error) => error.reason === "Corrupt",
                (error) =>
                  // kept aside, never deleted: the warning says where it went
                  Effect.flatMap(store.setAside, (keptAs) =>
                    Effect.as(
                      Console.error(
                        `Warning: ${sanitize(error.message)}; ${Option.match(keptAs, {
                          onNone: () => "removing it",
                          onSome: (to) => `moved it to ${sanitize(to)}`
                        })}${revoked ? "" : " without revoking"}.`
                      ),
                      { signedIn: true, keptAside: Option.isSome(keptAs) }
                    )
                  )
              )
            )
            const removed = yield* store.remove
            return { removed: (removed || existing.keptAside) && existing.signedIn, revoked }
          })
        )
      })
    )
    const { target } = yield* DeviceCodeAuth.Setup
    yield* options.json
      ? withJsonOutput(({ CliEvents, printJson }) =>
          printJson(
            CliEvents.LoggedOutEvent,
            new CliEvents.LoggedOutEvent({ profile: target.profile, removed, revoked })
          )
        )
      : Console.log(removed ? "Successfully logged out" : "Not logged in")
  }).pipe(withSafeConsole)
)
  .pipe(Command.provide((options) => authFor(storeCommandOptions(options))))
  .pipe(
    Command.withDescription(
      described(
        "Revoke the stored refresh token at its issuer (best effort, 10 s at most) and delete the sign-in",
        "devicecode logout --profile work"
      )
    )
  )
