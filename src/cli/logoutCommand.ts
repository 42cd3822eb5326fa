import { Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as CliEvents from "../domain/CliEvents.js"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../domain/CodexWire.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import * as CodexIssuer from "../layers/CodexIssuer.js"
import * as OidcIssuer from "../layers/OidcIssuer.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { described } from "./described.js"
import { httpLayer, loadEnvironment, profile, store, storeLayer, verbose } from "./environment.js"
import { json, printJson } from "./jsonOutput.js"

/** The wire calls of the dialect and issuer a stored sign-in was made with. */
const issuerOf = (auth: StoredAuth) =>
  Option.match(auth.origin, {
    onNone: () => CodexIssuer.make({ issuer: CODEX_DEFAULT_ISSUER, clientId: CODEX_CLIENT_ID }),
    onSome: (origin) =>
      origin.dialect === "codex"
        ? CodexIssuer.make({ issuer: origin.issuer, clientId: origin.clientId })
        : OidcIssuer.make({
            issuer: origin.issuer,
            clientId: origin.clientId,
            ...Option.match(origin.scope, { onNone: () => ({}), onSome: (scope) => ({ scope }) })
          })
  })

/** Best-effort revocation of a stored refresh token at the issuer it came from, capped at 10 s; true if it was revoked. */
const revokeStored = (auth: StoredAuth, logExchanges: boolean) =>
  Option.match(
    Option.flatMap(auth.tokens, (tokens) => tokens.refreshToken),
    {
      onNone: () => Effect.succeed(false),
      onSome: (refreshToken) =>
        Effect.gen(function* () {
          const http = yield* httpLayer(logExchanges)
          return yield* issuerOf(auth).pipe(
            Effect.flatMap((authorization) => authorization.revoke(refreshToken)),
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no answer within 10 s" }),
            Effect.provide(http),
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
        })
    }
  )

/** `devicecode logout`. */
export const logoutCommand = Command.make("logout", { json, profile, store, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment({ store: options.store })
    const profileName = Option.getOrElse(options.profile, () => DEFAULT_PROFILE)
    yield* Effect.gen(function* () {
      const store = yield* CredentialStore
      const existing = yield* store.load.pipe(
        Effect.catchIf(
          (error) => error.reason === "Corrupt",
          (error) => Effect.as(Console.error(`Warning: ${error.message}; removing it without revoking.`), Option.none())
        )
      )
      const revoked = Option.isSome(existing) ? yield* revokeStored(existing.value, options.verbose) : false
      const removed = yield* store.remove
      yield* options.json
        ? printJson(CliEvents.LoggedOutEvent, new CliEvents.LoggedOutEvent({ profile: profileName, removed, revoked }))
        : Console.log(removed ? "Successfully logged out" : "Not logged in")
    }).pipe(Effect.provide(storeLayer(env, profileName)))
  })
).pipe(
  Command.withDescription(
    described(
      "Revoke the stored refresh token at its issuer (best effort, 10 s at most) and delete the sign-in",
      "devicecode logout --profile work"
    )
  )
)
