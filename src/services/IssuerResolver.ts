import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { SignInOrigin } from "../domain/StoredAuth.js"
import { IssuerClient } from "./IssuerClient.js"

/**
 * The issuer client of the dialect and issuer a stored sign-in was made with, so refresh and logout go back to it.
 * No origin means codex's default issuer and client id.
 */
export class IssuerResolver extends Context.Tag("devicecode/IssuerResolver")<
  IssuerResolver,
  {
    readonly forSignIn: (origin: Option.Option<SignInOrigin>) => Effect.Effect<IssuerClient["Type"]>
  }
>() {}

/** Always the IssuerClient in context, whatever the origin: for tests and apps that know their issuer. */
export const fixed: Layer.Layer<IssuerResolver, never, IssuerClient> = Layer.effect(
  IssuerResolver,
  Effect.map(IssuerClient, (client) => IssuerResolver.of({ forSignIn: () => Effect.succeed(client) }))
)
