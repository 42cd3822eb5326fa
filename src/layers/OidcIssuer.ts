import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { normalizeIssuer, sanitizeServerText } from "../domain/CodexWire.js"
import { DeviceCode, parseInterval } from "../domain/DeviceCode.js"
import type { DeviceAuthError, RefreshError } from "../domain/Errors.js"
import { isRecord, parseJson } from "../domain/Json.js"
import { SignInOrigin } from "../domain/StoredAuth.js"
import { DeviceAuthorizationResponse, DiscoveryDocument, RefreshResponse, TokenResponse } from "../domain/OidcWire.js"
import { TokenSet } from "../domain/TokenSet.js"
import {
  AuthorizationGrant,
  DeviceAuthorization,
  PollResult,
  type TokenTypeHint
} from "../services/DeviceAuthorization.js"
import {
  type Answer,
  codexRefreshFailure,
  type DialectPolicy,
  isOk,
  isTransientStatus,
  lifetime,
  makeExchange,
  userAgent,
  nonEmpty,
  oauthError,
  readClaims
} from "./httpExchange.js"

/** Which OpenID provider the RFC 8628 dialect signs in at, as which client, for which scope. */
export interface OidcIssuerOptions {
  readonly issuer: string
  readonly clientId: string
  readonly scope?: string
  readonly requestTimeout?: Duration.DurationInput
}

/** The scope asked for when none is given: an identity, and a refresh token to keep it fresh. */
export const DEFAULT_SCOPE = "openid profile email offline_access"

const DEFAULT_TIMEOUT = Duration.seconds(30)
const REVOKE_TIMEOUT = Duration.seconds(10)
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

interface Endpoints {
  readonly deviceAuthorization: Option.Option<string>
  readonly token: string
  readonly revocation: Option.Option<string>
}

const form = (entries: ReadonlyArray<readonly [string, string]>) =>
  HttpClientRequest.bodyText(
    new URLSearchParams(entries.map(([key, value]): [string, string] => [key, value])).toString(),
    "application/x-www-form-urlencoded"
  )

/** A lifetime in seconds sent as a number or a numeric string (Azure AD v1 sends strings). */
const seconds = (raw: unknown): Option.Option<Duration.Duration> =>
  lifetime(typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN)

const secret = (s: string | undefined): Option.Option<Redacted.Redacted<string>> =>
  Option.map(Option.fromNullable(s), Redacted.make)

/**
 * A final refresh failure at an RFC 8628 provider: a 400/401 `invalid_grant` (RFC 6749 §5.2, in any case), its reason
 * read from the description; otherwise codex's rules (any 401 is final).
 */
const refreshFailure = (error: DeviceAuthError): Option.Option<RefreshError["reason"]> => {
  if (
    error.reason !== "Unavailable" &&
    error.code?.toLowerCase() === "invalid_grant" &&
    (error.status === 400 || error.status === 401)
  ) {
    const description = (error.detail ?? "").toLowerCase()
    if (/expired/.test(description)) return Option.some("Expired")
    if (/already (been )?used|reuse/.test(description)) return Option.some("Reused")
    if (/revoked|invalidated/.test(description)) return Option.some("Invalidated")
    return Option.some("Other")
  }
  return codexRefreshFailure(error)
}

/** The RFC 8628 dialect's decisions: an `oidc` record that remembers its provider and keeps `expires_in`. */
export const policy = (issuer: string, clientId: string, scope: string): DialectPolicy => ({
  dialect: "rfc8628",
  issuer,
  clientId,
  scope: Option.some(scope),
  origin: Option.some(new SignInOrigin({ dialect: "rfc8628", issuer, clientId, scope: Option.some(scope) })),
  authMode: "oidc",
  // a provider need not send an id_token (no `openid` scope): the claims are then empty
  claimsOf: (tokens) => readClaims(issuer, tokens, false),
  storedExpiry: (expiresIn, now) => Option.map(expiresIn, (ttl) => DateTime.addDuration(now, ttl)),
  refreshFailure,
  // RFC 6749 §5.2: a spent refresh token is an `invalid_grant`, like every other unusable one
  refreshSpentElsewhere: (error) =>
    ((error.status === 400 || error.status === 401) && error.code?.toLowerCase() === "invalid_grant") ||
    Option.contains(codexRefreshFailure(error), "Reused")
})

/** Makes the RFC 8628 dialect's wire calls over the ambient HttpClient, against endpoints found by discovery. */
export const make = (
  options: OidcIssuerOptions
): Effect.Effect<DeviceAuthorization["Type"], never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
    const issuer = normalizeIssuer(options.issuer)
    const clientId = options.clientId
    const scope = options.scope ?? DEFAULT_SCOPE
    const requestTimeout = Duration.decode(options.requestTimeout ?? DEFAULT_TIMEOUT)
    const { classify, decode, fail, send } = makeExchange({
      client,
      issuer,
      requestTimeout,
      headers: { "user-agent": userAgent }
    })
    const discovered = yield* SynchronizedRef.make(Option.none<Endpoints>())
    const redeemed = yield* Ref.make(HashSet.empty<string>())

    const post = (url: string, entries: ReadonlyArray<readonly [string, string]>) =>
      HttpClientRequest.post(url).pipe(HttpClientRequest.acceptJson, form(entries))

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
        deviceAuthorization: Option.fromNullable(nonEmpty(value.device_authorization_endpoint)),
        token: value.token_endpoint,
        revocation: Option.fromNullable(nonEmpty(value.revocation_endpoint))
      } satisfies Endpoints
    }).pipe(Effect.withSpan("OidcIssuer.discover"))

    // found once and kept; a failed discovery is not kept, so the next call tries again
    const endpoints = SynchronizedRef.modifyEffect(discovered, (known) =>
      Option.match(known, {
        onSome: (found) => Effect.succeed([found, known] as const),
        onNone: () => Effect.map(fetchDiscovery, (found) => [found, Option.some(found)] as const)
      })
    )

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
      const { value } = yield* decode("usercode", DeviceAuthorizationResponse, answer)
      const userCode = nonEmpty(value.user_code)
      if (userCode === undefined) return yield* fail("usercode", { reason: "Malformed", detail: "missing user_code" })
      const verificationUri = nonEmpty(value.verification_uri) ?? nonEmpty(value.verification_url)
      if (verificationUri === undefined) {
        return yield* fail("usercode", { reason: "Malformed", detail: "missing verification_uri" })
      }
      const now = yield* DateTime.now
      return new DeviceCode({
        deviceCode: Redacted.make(value.device_code),
        userCode,
        verificationUri,
        verificationUriComplete: Option.fromNullable(nonEmpty(value.verification_uri_complete)),
        interval: parseInterval(value.interval),
        expiresAt: Option.map(seconds(value.expires_in), (expiresIn) => DateTime.addDuration(now, expiresIn))
      })
    }).pipe(Effect.withSpan("OidcIssuer.start"))

    const tokensOf = (answer: Answer) =>
      Effect.map(
        decode("poll", TokenResponse, answer),
        ({ value }) =>
          new TokenSet({
            accessToken: Redacted.make(value.access_token),
            idToken: secret(value.id_token),
            refreshToken: secret(value.refresh_token),
            expiresIn: seconds(value.expires_in)
          })
      )

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
        const tokens = yield* tokensOf(answer)
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

    const exchange = Effect.fn("OidcIssuer.exchange")(function* () {
      return yield* fail("exchange", {
        reason: "Malformed",
        detail: "the rfc8628 dialect gets tokens from its poll and has no authorization code to exchange"
      })
    })

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
      const { value } = yield* decode("refresh", RefreshResponse, answer)
      return {
        accessToken: secret(value.access_token),
        idToken: secret(value.id_token),
        refreshToken: secret(value.refresh_token),
        expiresIn: seconds(value.expires_in)
      }
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
        REVOKE_TIMEOUT
      )
      if (!isOk(answer.status)) return yield* classify("revoke", answer)
    })

    return DeviceAuthorization.of({ ...policy(issuer, clientId, scope), start, poll, exchange, refresh, revoke })
  })

/** The RFC 8628 dialect as the DeviceAuthorization service. */
export const layer = (options: OidcIssuerOptions): Layer.Layer<DeviceAuthorization, never, HttpClient.HttpClient> =>
  Layer.effect(DeviceAuthorization, make(options))
