import { Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../domain/CodexWire.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import * as CodexIssuer from "../layers/CodexIssuer.js"
import * as OidcIssuer from "../layers/OidcIssuer.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { httpLayer, loadEnvironment, profile, store, storeLayer, verbose } from "./environment.js"

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

/** Best-effort revocation of a stored refresh token at the issuer it came from, capped at 10 s. */
const revokeStored = (auth: StoredAuth, logExchanges: boolean) =>
  Option.match(
    Option.flatMap(auth.tokens, (tokens) => tokens.refreshToken),
    {
      onNone: () => Effect.void,
      onSome: (refreshToken) =>
        Effect.gen(function* () {
          const http = yield* httpLayer(logExchanges)
          yield* issuerOf(auth).pipe(
            Effect.flatMap((authorization) => authorization.revoke(refreshToken)),
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no answer within 10 s" }),
            Effect.provide(http),
            Effect.catchAll((error) =>
              Console.error(
                `Warning: could not revoke the token (${typeof error === "string" ? error : error.message}); removing the local sign-in anyway.`
              )
            )
          )
        })
    }
  )

/** `devicecode logout`. */
export const logoutCommand = Command.make("logout", { profile, store, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment({ store: options.store })
    yield* Effect.gen(function* () {
      const store = yield* CredentialStore
      const existing = yield* store.load.pipe(
        Effect.catchIf(
          (error) => error.reason === "Corrupt",
          (error) => Effect.as(Console.error(`Warning: ${error.message}; removing it without revoking.`), Option.none())
        )
      )
      if (Option.isSome(existing)) yield* revokeStored(existing.value, options.verbose)
      const removed = yield* store.remove
      yield* Console.log(removed ? "Successfully logged out" : "Not logged in")
    }).pipe(
      Effect.provide(
        storeLayer(
          env,
          Option.getOrElse(options.profile, () => DEFAULT_PROFILE)
        )
      )
    )
  })
).pipe(
  Command.withDescription(
    "Revoke the stored refresh token at its issuer (best effort, 10 s at most) and delete the sign-in"
  )
)
