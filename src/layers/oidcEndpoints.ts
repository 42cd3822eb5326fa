import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { normalizeIssuer, sanitizeServerText } from "../domain/CodexWire.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import { DiscoveryDocument } from "../domain/OidcWire.js"
import { nonEmpty } from "../domain/Json.js"
import { type Exchange, isOk } from "./httpExchange.js"

const form = (entries: ReadonlyArray<readonly [string, string]>) =>
  HttpClientRequest.bodyText(
    new URLSearchParams(entries.map(([key, value]): [string, string] => [key, value])).toString(),
    "application/x-www-form-urlencoded"
  )

/** A form POST that asks for JSON (RFC 6749 §4.1.3, RFC 8628 §3.1, RFC 7009 §2.1). */
export const post = (url: string, entries: ReadonlyArray<readonly [string, string]>) =>
  HttpClientRequest.post(url).pipe(HttpClientRequest.acceptJson, form(entries))

/** The endpoints of an OpenID provider that the RFC 8628 dialect uses. */
export interface Endpoints {
  /** Where a browser login sends the person (authorization code + PKCE); none for a device-only provider. */
  readonly authorization: Option.Option<string>
  /** Whether the provider sends `iss` with an authorization response (RFC 9207), which must then match. */
  readonly issInAuthorizationResponse: boolean
  readonly deviceAuthorization: Option.Option<string>
  readonly token: string
  readonly revocation: Option.Option<string>
}

/**
 * The provider's endpoints from its discovery document (OpenID Discovery, else RFC 8414's well-known name), checked to
 * name `issuer` itself; found once and kept, while a failed discovery is not kept, so the next call tries again.
 */
export const makeDiscovery = (
  issuer: string,
  { classify, decode, fail, send }: Exchange
): Effect.Effect<Effect.Effect<Endpoints, DeviceAuthError>> =>
  Effect.gen(function* () {
    const discovered = yield* SynchronizedRef.make(Option.none<Endpoints>())

    const fetchDiscovery = Effect.gen(function* () {
      const get = (url: string) => send("discovery", HttpClientRequest.get(url).pipe(HttpClientRequest.acceptJson))
      const openid = `${issuer}/.well-known/openid-configuration`
      const oauth = `${issuer}/.well-known/oauth-authorization-server`
      let answer = yield* get(openid)
      // RFC 8414 §3: a plain OAuth server publishes its metadata under its own well-known name
      if (answer.status === 404) answer = yield* get(oauth)
      if (answer.status === 404) {
        return yield* fail("discovery", {
          reason: "Misconfigured",
          status: 404,
          detail: `it publishes no discovery document at ${openid} or ${oauth}`
        })
      }
      if (!isOk(answer.status)) return yield* classify("discovery", answer)
      const { value } = yield* decode("discovery", DiscoveryDocument, answer)
      if (normalizeIssuer(value.issuer) !== issuer) {
        return yield* fail("discovery", {
          reason: "Misconfigured",
          detail: `discovery says its issuer is ${sanitizeServerText(value.issuer, 200)}, not ${issuer}`
        })
      }
      return {
        authorization: Option.fromNullable(nonEmpty(value.authorization_endpoint)),
        issInAuthorizationResponse: value.authorization_response_iss_parameter_supported === true,
        deviceAuthorization: Option.fromNullable(nonEmpty(value.device_authorization_endpoint)),
        token: value.token_endpoint,
        revocation: Option.fromNullable(nonEmpty(value.revocation_endpoint))
      } satisfies Endpoints
    }).pipe(Effect.withSpan("OidcIssuer.discover"))

    return SynchronizedRef.modifyEffect(discovered, (known) =>
      Option.match(known, {
        onSome: (found) => Effect.succeed([found, known] as const),
        onNone: () => Effect.map(fetchDiscovery, (found) => [found, Option.some(found)] as const)
      })
    )
  })
