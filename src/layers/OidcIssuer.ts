import * as HttpClient from "@effect/platform/HttpClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { normalizeIssuer } from "../domain/CodexWire.js"
import type { DeviceCode } from "../domain/DeviceCode.js"
import { DEFAULT_OIDC_SCOPE } from "../domain/Dialect.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import { isRecord, parseJson } from "../domain/Json.js"
import { SignInOrigin } from "../domain/StoredAuth.js"
import { OidcDeviceCodeFromWire, OidcRefreshFromWire, OidcTokenSetFromWire } from "../domain/OidcWire.js"
import { IssuerClient, type TokenTypeHint } from "../services/IssuerClient.js"
import { AuthorizationGrant, LoginFlow, PollResult } from "../services/LoginFlow.js"
import { Pkce, type PkceCodes } from "../services/Pkce.js"
import * as Schedules from "../services/schedules.js"
import { type Answer, isOk, isTransientStatus, makeExchange, oauthError, userAgent } from "./httpExchange.js"
import { codexRefreshFailure, completeGrant, issuerClientOf, loginFlowOf, oidcRefreshFailure } from "./issuerRules.js"
import { makeDiscovery, post } from "./oidcEndpoints.js"

/** Which OpenID provider the RFC 8628 dialect signs in at, as which client, for which scope. */
export interface OidcIssuerOptions {
  readonly issuer: string
  readonly clientId: string
  readonly scope?: string
  readonly requestTimeout?: Duration.DurationInput
}

/** The scope asked for when none is given: an identity, and a refresh token to keep it fresh. */
export const DEFAULT_SCOPE = DEFAULT_OIDC_SCOPE

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

/** The RFC 8628 dialect's decisions, besides its wire calls: an `oidc` record that remembers its provider. */
export const rules = (issuer: string, clientId: string, scope: string) => ({
  origin: Option.some(new SignInOrigin({ dialect: "rfc8628", issuer, clientId, scope: Option.some(scope) })),
  authMode: "oidc" as const,
  storedExpiry: (expiresIn: Option.Option<Duration.Duration>, now: DateTime.Utc) =>
    Option.map(expiresIn, (ttl) => DateTime.addDuration(now, ttl)),
  refreshFailure: oidcRefreshFailure,
  // RFC 6749 §5.2: a spent refresh token is an `invalid_grant`, like every other unusable one
  refreshSpentElsewhere: (error: DeviceAuthError) =>
    ((error.status === 400 || error.status === 401) && error.code?.toLowerCase() === "invalid_grant") ||
    Option.contains(codexRefreshFailure(error), "Reused"),
  requestHeaders: (): Readonly<Record<string, string>> => ({})
})

/** The provider, client and HTTP exchange the RFC 8628 dialect's calls share, with discovery run at most once. */
const connect = (options: OidcIssuerOptions) =>
  Effect.gen(function* () {
    const client = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
    const issuer = normalizeIssuer(options.issuer)
    const requestTimeout = Duration.decode(options.requestTimeout ?? Schedules.requestTimeout)
    const exchange = makeExchange({ client, issuer, requestTimeout, headers: { "user-agent": userAgent } })
    const endpoints = yield* makeDiscovery(issuer, exchange)
    return { issuer, clientId: options.clientId, scope: options.scope ?? DEFAULT_SCOPE, endpoints, ...exchange }
  })

/** Makes the RFC 8628 device login over the ambient HttpClient, against endpoints found by discovery. */
export const makeLoginFlow = (
  options: OidcIssuerOptions
): Effect.Effect<LoginFlow["Type"], never, HttpClient.HttpClient | Pkce> =>
  Effect.gen(function* () {
    const pkce = yield* Pkce
    const { classify, clientId, decode, endpoints, fail, issuer, scope, send } = yield* connect(options)
    const redeemed = yield* Ref.make(HashSet.empty<string>())

    // RFC 6749 §4.1.1 with PKCE (RFC 7636 §4.3) and OpenID Connect's nonce, onto the endpoint's own query if it has one
    const authorizeUrl: LoginFlow["Type"]["authorizeUrl"] = (request) =>
      Effect.gen(function* () {
        const { authorization, issInAuthorizationResponse } = yield* endpoints
        if (Option.isNone(authorization)) {
          return yield* fail("authorize", {
            reason: "Misconfigured",
            detail: "its discovery document has no authorization_endpoint (the provider does not offer browser login)"
          })
        }
        const url = new URL(authorization.value)
        const parameters: ReadonlyArray<readonly [string, string]> = [
          ["response_type", "code"],
          ["client_id", clientId],
          ["redirect_uri", request.redirectUri],
          ["scope", scope],
          ["state", request.state],
          ["code_challenge", request.codeChallenge],
          ["code_challenge_method", "S256"],
          ...Option.toArray(Option.map(request.nonce, (nonce) => ["nonce", nonce] as const)),
          // OpenID Connect Core §11: a provider grants offline_access (a refresh token) only with prompt=consent
          ...(scope.split(" ").includes("offline_access") ? [["prompt", "consent"] as const] : [])
        ]
        for (const [name, value] of parameters) url.searchParams.append(name, value)
        // RFC 9207 §2.4: a provider that says it sends `iss` must send its own
        return { url: url.toString(), responseIss: issInAuthorizationResponse ? Option.some(issuer) : Option.none() }
      })

    const start = Effect.gen(function* () {
      const { deviceAuthorization } = yield* endpoints
      if (Option.isNone(deviceAuthorization)) {
        return yield* fail("discovery", {
          reason: "Misconfigured",
          detail:
            "its discovery document has no device_authorization_endpoint (the provider does not support RFC 8628 device login, or it is not enabled)"
        })
      }
      // RFC 8628 §3.1
      const answer = yield* send(
        "usercode",
        post(deviceAuthorization.value, [
          ["client_id", clientId],
          ["scope", scope]
        ])
      )
      if (!isOk(answer.status)) {
        const { code, description } = oauthError(answer.text)
        const because = description === undefined ? "" : `: ${description}`
        if (!isTransientStatus(answer.status) && (code === "invalid_client" || code === "unauthorized_client")) {
          return yield* fail("usercode", {
            reason: "Misconfigured",
            status: answer.status,
            code,
            detail: `the provider does not accept client id "${clientId}" for device login${because}`
          })
        }
        if (!isTransientStatus(answer.status) && code === "invalid_scope") {
          return yield* fail("usercode", {
            reason: "Misconfigured",
            status: answer.status,
            code,
            detail: `the provider does not accept the scope "${scope}"${because}`
          })
        }
        return yield* classify("usercode", answer)
      }
      const { value } = yield* decode("usercode", OidcDeviceCodeFromWire(yield* DateTime.now), answer)
      return value
    }).pipe(Effect.withSpan("OidcIssuer.start"))

    const tokensOf = (step: "poll" | "exchange", answer: Answer) =>
      Effect.map(decode(step, OidcTokenSetFromWire, answer), ({ value }) => value)

    // a 200 that carries `error` (as GitHub sends) is read as the error it names
    const errorIn200 = (answer: Answer): boolean => {
      const body = Option.getOrUndefined(parseJson(answer.text))
      return isRecord(body) && typeof body.error === "string" && body.access_token === undefined
    }

    const poll = Effect.fn("OidcIssuer.poll")(function* (code: DeviceCode) {
      const deviceCode = Redacted.value(code.deviceCode)
      if (HashSet.has(yield* Ref.get(redeemed), deviceCode)) {
        return yield* fail("poll", { reason: "Rejected", detail: "this device code was already redeemed" })
      }
      const { token } = yield* endpoints
      // RFC 8628 §3.4
      const answer = yield* send(
        "poll",
        post(token, [
          ["grant_type", DEVICE_CODE_GRANT],
          ["device_code", deviceCode],
          ["client_id", clientId]
        ])
      )
      if (isOk(answer.status) && !errorIn200(answer)) {
        const tokens = yield* tokensOf("poll", answer)
        yield* Ref.update(redeemed, HashSet.add(deviceCode))
        return PollResult.Approved({ grant: AuthorizationGrant.Tokens({ tokens }) })
      }
      const { code: error, description } = oauthError(answer.text)
      if (error === undefined || !(isOk(answer.status) || answer.status === 400 || answer.status === 401)) {
        return yield* classify("poll", answer)
      }
      // RFC 8628 §3.5
      const known = { status: answer.status, code: error }
      switch (error) {
        case "authorization_pending":
          return PollResult.Pending()
        case "slow_down":
          return PollResult.SlowDown()
        case "access_denied":
          return yield* fail("poll", { reason: "Denied", ...known, ...(description ? { detail: description } : {}) })
        case "expired_token":
          return yield* fail("poll", { reason: "Expired", ...known, ...(description ? { detail: description } : {}) })
        default:
          return yield* fail("poll", {
            reason: "Rejected",
            ...known,
            detail: description === undefined ? error : `${error}: ${description}`
          })
      }
    })

    // RFC 6749 §4.1.3 with RFC 7636 §4.5: an authorization code (not one a device login yields) and its verifier
    const exchange = Effect.fn("OidcIssuer.exchange")(function* (
      code: Redacted.Redacted<string>,
      pair: PkceCodes,
      redirectUri: string
    ) {
      const { token } = yield* endpoints
      const answer = yield* send(
        "exchange",
        post(token, [
          ["grant_type", "authorization_code"],
          ["code", Redacted.value(code)],
          ["redirect_uri", redirectUri],
          ["client_id", clientId],
          ["code_verifier", Redacted.value(pair.verifier)]
        ])
      )
      if (!isOk(answer.status)) return yield* classify("exchange", answer)
      return yield* tokensOf("exchange", answer)
    })

    return loginFlowOf(rules(issuer, clientId, scope), {
      issuer,
      authorizeUrl,
      // RFC 8252 §7.3: loopback, any free port
      browserRedirect: {
        callbackPath: "/callback",
        defaultPort: 0,
        redirectUri: (port: number) => `http://127.0.0.1:${port}/callback`,
        sendsNonce: true
      },
      exchangeApiKey: Option.none(),
      start,
      poll,
      // a provider need not send an id_token (no `openid` scope): the claims are then empty
      complete: completeGrant({ issuer, pkce, exchange, claimsRequired: false })
    })
  })

/** Makes the RFC 8628 dialect's refresh and revoke over the ambient HttpClient, against discovered endpoints. */
export const makeClient = (
  options: OidcIssuerOptions
): Effect.Effect<IssuerClient["Type"], never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { classify, clientId, decode, endpoints, fail, issuer, scope, send } = yield* connect(options)

    const refresh = Effect.fn("OidcIssuer.refresh")(function* (refreshToken: Redacted.Redacted<string>) {
      const { token } = yield* endpoints
      // RFC 6749 §6: no scope, so the provider keeps the one it granted
      const answer = yield* send(
        "refresh",
        post(token, [
          ["grant_type", "refresh_token"],
          ["refresh_token", Redacted.value(refreshToken)],
          ["client_id", clientId]
        ])
      )
      if (!isOk(answer.status)) return yield* classify("refresh", answer)
      const { value } = yield* decode("refresh", OidcRefreshFromWire, answer)
      return value
    })

    const revoke = Effect.fn("OidcIssuer.revoke")(function* (
      token: Redacted.Redacted<string>,
      hint: TokenTypeHint = "refresh_token"
    ) {
      const { revocation } = yield* endpoints
      if (Option.isNone(revocation)) {
        return yield* fail("revoke", { reason: "Misconfigured", detail: "it publishes no revocation_endpoint" })
      }
      // RFC 7009 §2.1
      const answer = yield* send(
        "revoke",
        post(revocation.value, [
          ["token", Redacted.value(token)],
          ["token_type_hint", hint],
          ["client_id", clientId]
        ]),
        Schedules.revokeBound
      )
      if (!isOk(answer.status)) return yield* classify("revoke", answer)
    })

    return issuerClientOf(rules(issuer, clientId, scope), { issuer, refresh, revoke })
  })

/** The RFC 8628 device login as the LoginFlow service. */
export const layer = (options: OidcIssuerOptions): Layer.Layer<LoginFlow, never, HttpClient.HttpClient | Pkce> =>
  Layer.effect(LoginFlow, makeLoginFlow(options))

/** The RFC 8628 dialect's refresh and revoke as the IssuerClient service. */
export const layerClient = (options: OidcIssuerOptions): Layer.Layer<IssuerClient, never, HttpClient.HttpClient> =>
  Layer.effect(IssuerClient, makeClient(options))
