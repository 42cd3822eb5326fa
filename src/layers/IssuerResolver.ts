import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as HttpClient from "@effect/platform/HttpClient"
import { DeviceAuthError, type DeviceAuthStep } from "../domain/Errors.js"
import { validateIssuerUrl } from "../domain/IssuerUrl.js"
import type { SignInOrigin } from "../domain/StoredAuth.js"
import type { IssuerClient } from "../services/IssuerClient.js"
import { dialectRequestHeaders, IssuerResolver } from "../services/IssuerResolver.js"
import * as CodexIssuer from "./CodexIssuer.js"
import * as OidcIssuer from "./OidcIssuer.js"

export { dialectRequestHeaders, fixed, IssuerResolver } from "../services/IssuerResolver.js"

const originKey = (origin: Option.Option<SignInOrigin>): string =>
  Option.match(origin, {
    onNone: () => "codex",
    onSome: (o) => JSON.stringify([o.dialect, o.issuer, o.clientId, Option.getOrNull(o.scope)])
  })

/**
 * The client of an issuer a stored record names but that no login would accept (plain http to a remote host,
 * `user:pass@`, a query): its refresh and revoke fail `Misconfigured` saying why, before any request. A record edited
 * by hand, or by someone else, cannot send a refresh token over the network in clear text.
 */
const refused = (client: IssuerClient["Type"], why: string): IssuerClient["Type"] => {
  const fail = (step: DeviceAuthStep) =>
    Effect.fail(
      new DeviceAuthError({ reason: "Misconfigured", issuer: "the stored sign-in's issuer", step, detail: why })
    )
  return { ...client, refresh: () => fail("refresh"), revoke: () => fail("revoke") }
}

const makeFor = (origin: Option.Option<SignInOrigin>) =>
  Option.match(origin, {
    onNone: () => CodexIssuer.makeClient(),
    onSome: (o) => {
      const made =
        o.dialect === "codex"
          ? CodexIssuer.makeClient({ issuer: o.issuer, clientId: o.clientId })
          : OidcIssuer.makeClient({
              issuer: o.issuer,
              clientId: o.clientId,
              ...(Option.isSome(o.scope) ? { scope: o.scope.value } : {})
            })
      return Either.match(validateIssuerUrl(o.issuer, "the issuer stored with this sign-in"), {
        onLeft: (why) => Effect.map(made, (client) => refused(client, why)),
        onRight: () => made
      })
    }
  })

/**
 * Makes the issuer client of each sign-in over the ambient HttpClient: codex's dialect for codex records (and for
 * records without an origin), RFC 8628 for the others. One client per origin is kept, so OIDC discovery runs once.
 */
export const make: Effect.Effect<IssuerResolver["Type"], never, HttpClient.HttpClient> = Effect.gen(function* () {
  const context = yield* Effect.context<HttpClient.HttpClient>()
  const made = yield* SynchronizedRef.make(new Map<string, IssuerClient["Type"]>())
  return IssuerResolver.of({
    requestHeaders: dialectRequestHeaders,
    forSignIn: (origin) => {
      const key = originKey(origin)
      return SynchronizedRef.modifyEffect(made, (known) => {
        const found = known.get(key)
        if (found !== undefined) return Effect.succeed([found, known] as const)
        return Effect.map(
          Effect.provide(makeFor(origin), context),
          (client) => [client, new Map(known).set(key, client)] as const
        )
      })
    }
  })
})

/** Resolves each sign-in's origin to its dialect's issuer client over the ambient HttpClient. */
export const layer: Layer.Layer<IssuerResolver, never, HttpClient.HttpClient> = Layer.effect(IssuerResolver, make)
