import { Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as CliEvents from "../domain/CliEvents.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { IssuerResolver } from "../services/IssuerResolver.js"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { authOptions, profile, store, verbose } from "./environment.js"
import { json, printJson } from "./jsonOutput.js"

/** Best-effort revocation of a stored refresh token at the issuer it came from, capped at 10 s; true if it was revoked. */
const revokeStored = (auth: StoredAuth) =>
  Option.match(
    Option.flatMap(auth.tokens, (tokens) => tokens.refreshToken),
    {
      onNone: () => Effect.succeed(false),
      onSome: (refreshToken) =>
        Effect.flatMap(IssuerResolver, (resolver) => resolver.forSignIn(auth.origin)).pipe(
          Effect.flatMap((issuer) => issuer.revoke(refreshToken)),
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no answer within 10 s" }),
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

/** `devicecode logout`: load, revoke and remove, all under the store's lock. */
export const logoutCommand = Command.make("logout", { json, profile, store, verbose }, (options) =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    // under the store's lock, so a refresh (ours or codex's) cannot slip a sign-in back in between
    const { removed, revoked } = yield* store.locked(
      Effect.gen(function* () {
        const existing = yield* store.load.pipe(
          Effect.catchIf(
            (error) => error.reason === "Corrupt",
            (error) =>
              Effect.as(Console.error(`Warning: ${error.message}; removing it without revoking.`), Option.none())
          )
        )
        const revoked = Option.isSome(existing) ? yield* revokeStored(existing.value) : false
        return { removed: yield* store.remove, revoked }
      })
    )
    const { target } = yield* DeviceCodeAuth.Setup
    yield* options.json
      ? printJson(CliEvents.LoggedOutEvent, new CliEvents.LoggedOutEvent({ profile: target.profile, removed, revoked }))
      : Console.log(removed ? "Successfully logged out" : "Not logged in")
  })
)
  .pipe(Command.provide((options) => authFor(authOptions(options))))
  .pipe(
    Command.withDescription(
      described(
        "Revoke the stored refresh token at its issuer (best effort, 10 s at most) and delete the sign-in",
        "devicecode logout --profile work"
      )
    )
  )
