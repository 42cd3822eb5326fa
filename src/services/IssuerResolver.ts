import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { codexRequestHeaders } from "../domain/CodexConstants.js"
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
    /**
     * The client's `requestHeaders` for a sign-in of `origin`, without making the client (which a fresh token never
     * needs); a resolver without it is asked for the client.
     */
    readonly requestHeaders?: (
      origin: Option.Option<SignInOrigin>,
      accountId: Option.Option<string>
    ) => Readonly<Record<string, string>>
  }
>() {}

/** The `requestHeaders` of the dialect's clients: codex's for codex sign-ins (and those without an origin), none for RFC 8628. */
export const dialectRequestHeaders = (
  origin: Option.Option<SignInOrigin>,
  accountId: Option.Option<string>
): Readonly<Record<string, string>> =>
  Option.isNone(origin) || origin.value.dialect === "codex" ? codexRequestHeaders(accountId) : {}

/** Always the IssuerClient in context, whatever the origin: for tests and apps that know their issuer. */
export const fixed: Layer.Layer<IssuerResolver, never, IssuerClient> = Layer.effect(
  IssuerResolver,
  Effect.map(IssuerClient, (client) => IssuerResolver.of({ forSignIn: () => Effect.succeed(client) }))
)
