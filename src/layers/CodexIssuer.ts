import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  CODEX_CLIENT_ID,
  CODEX_DEFAULT_ISSUER,
  codexAuthorizeUrl,
  codexBrowserRedirect,
  CodexDeviceCodeFromWire,
  codexEndpoints,
  CodexRefreshFromWire,
  ApiKeyExchangeResponse,
  codexApiKeyExchangeForm,
  CodexTokenSetFromWire,
  errorCode,
  normalizeIssuer,
  PollSuccessResponse,
  revokeUrlFromRefreshUrl
} from "../domain/CodexWire.js"
import type { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import { SignInOrigin } from "../domain/StoredAuth.js"
import { IssuerClient, type RefreshReason, type TokenTypeHint } from "../services/IssuerClient.js"
import { AuthorizationGrant, LoginFlow, PollResult } from "../services/LoginFlow.js"
import { Pkce, type PkceCodes } from "../services/Pkce.js"
import { parseJson } from "../domain/Json.js"
import * as Schedules from "../services/schedules.js"
import { isOk, makeExchange, userAgent } from "./httpExchange.js"
import { codexRefreshFailure, completeGrant, issuerClientOf, loginFlowOf } from "./issuerRules.js"
import { decodableEncodings } from "./contentCoding.js"
import { codexRequestHeaders } from "../domain/CodexConstants.js"

/** Where and as whom the Codex dialect signs in; every field falls back to what codex uses. */
export interface CodexIssuerOptions {
  readonly issuer?: string
  readonly clientId?: string
  readonly requestTimeout?: Duration.DurationInput
}

/** What codex sends as `originator` on its refresh and revoke requests (codex-protocol.md §8). */
export const ORIGINATOR = "codex_cli_rs"

/**
 * The headers of codex's sign-in calls (user code, polls, code exchange), measured on 0.169 and 0.171: `accept` of any type,
 * and (0.171) `accept-encoding`, where we name only what we decode (codex says `zstd,gzip`); no User-Agent, no
 * originator. The content type comes with the body.
 */
export const signInHeaders: Readonly<Record<string, string>> = {
  accept: "*/*",
  "accept-encoding": decodableEncodings
}

/** The headers of codex's refresh and revoke calls: the sign-in ones, plus `originator` and a User-Agent (ours). */
export const tokenHeaders: Readonly<Record<string, string>> = {
  ...signInHeaders,
  originator: ORIGINATOR,
  "user-agent": userAgent
}

/** The Codex dialect's decisions for an issuer and client, besides its wire calls: what codex reads back is what it writes. */
export const rules = (issuer: string, clientId: string) => ({
  // codex's own issuer and client leave no trace in the record, so the file stays codex's exact shape
  origin:
    issuer === CODEX_DEFAULT_ISSUER && clientId === CODEX_CLIENT_ID
      ? Option.none()
      : Option.some(new SignInOrigin({ dialect: "codex", issuer, clientId, scope: Option.none() })),
  authMode: "chatgpt" as const,
  // codex reads expiry from the access token's `exp` and would not keep another field
  storedExpiry: (): Option.Option<DateTime.Utc> => Option.none(),
  refreshFailure: codexRefreshFailure,
  // §8: codex's own answer to a spent refresh token
  refreshSpentElsewhere: (error: DeviceAuthError) => Option.contains(codexRefreshFailure(error), "Reused"),
  // ChatGPT's APIs act for the workspace named by this header
  requestHeaders: codexRequestHeaders
})

// compact JSON, keys in the order given (serde's order of codex's structs)
const postJson = (url: string, body: Record<string, string>) =>
  HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body))

// a form in the order given, as codex encodes it
const postForm = (url: string, form: URLSearchParams) =>
  HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(form.toString(), "application/x-www-form-urlencoded"))

/** The issuer, client id and HTTP exchange the Codex dialect's calls share. */
const connect = (options: CodexIssuerOptions) =>
  Effect.gen(function* () {
    const client = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
    const issuer = normalizeIssuer(options.issuer ?? CODEX_DEFAULT_ISSUER)
    const clientId = options.clientId ?? CODEX_CLIENT_ID
    const requestTimeout = Duration.decode(options.requestTimeout ?? Schedules.requestTimeout)
    const exchange = makeExchange({ client, issuer, requestTimeout, headers: signInHeaders })
    return { issuer, clientId, endpoints: codexEndpoints(issuer), ...exchange }
  })

/** Makes the Codex dialect's device login over the ambient HttpClient (codex-protocol.md §1–§6). */
export const makeLoginFlow = (
  options: CodexIssuerOptions = {}
): Effect.Effect<LoginFlow["Type"], never, HttpClient.HttpClient | Pkce> =>
  Effect.gen(function* () {
    const pkce = yield* Pkce
    const { classify, clientId, decode, endpoints, fail, issuer, send } = yield* connect(options)
    const start = Effect.gen(function* () {
      // §1: the body is exactly {"client_id": …}
      const answer = yield* send("usercode", postJson(endpoints.userCode, { client_id: clientId }))
      if (answer.status === 404) return yield* fail("usercode", { reason: "NotEnabled", status: 404 })
      if (!isOk(answer.status)) return yield* classify("usercode", answer)
      const { value } = yield* decode("usercode", CodexDeviceCodeFromWire(endpoints.verification), answer)
      return value
    }).pipe(Effect.withSpan("CodexIssuer.start"))

    const poll = Effect.fn("CodexIssuer.poll")(function* (code: DeviceCode) {
      // §3: the body is exactly {"device_auth_id": …, "user_code": …}
      const answer = yield* send(
        "poll",
        postJson(endpoints.poll, { device_auth_id: Redacted.value(code.deviceCode), user_code: code.userCode })
      )
      if (isOk(answer.status)) {
        const { value } = yield* decode("poll", PollSuccessResponse, answer)
        return PollResult.Approved({
          grant: AuthorizationGrant.AuthorizationCode({
            code: Redacted.make(value.authorization_code),
            codeVerifier: Redacted.make(value.code_verifier),
            codeChallenge: value.code_challenge,
            redirectUri: endpoints.redirectUri
          })
        })
      }
      const errCode = errorCode(Option.getOrUndefined(parseJson(answer.text)))
      if (errCode === "access_denied") {
        return yield* fail("poll", { reason: "Denied", status: answer.status, code: errCode })
      }
      if (errCode !== undefined && (errCode === "expired_token" || errCode.endsWith("expired"))) {
        return yield* fail("poll", { reason: "Expired", status: answer.status, code: errCode })
      }
      if (answer.status === 403 || answer.status === 404) {
        return errCode === "slow_down" ? PollResult.SlowDown() : PollResult.Pending()
      }
      return yield* classify("poll", answer)
    })

    const exchange = Effect.fn("CodexIssuer.exchange")(function* (
      code: Redacted.Redacted<string>,
      pair: PkceCodes,
      redirectUri: string
    ) {
      // §4: form parameters in codex's exact order (0.169 and 0.171, measured)
      const form = new URLSearchParams([
        ["grant_type", "authorization_code"],
        ["client_id", clientId],
        ["code", Redacted.value(code)],
        ["redirect_uri", redirectUri],
        ["code_verifier", Redacted.value(pair.verifier)]
      ])
      const answer = yield* send("exchange", postForm(endpoints.token, form))
      if (!isOk(answer.status)) return yield* classify("exchange", answer)
      const { value } = yield* decode("exchange", CodexTokenSetFromWire, answer)
      return value
    })

    // after a browser login, codex trades the id_token for an API key (RFC 8693)
    const exchangeApiKey = Effect.fn("CodexIssuer.exchangeApiKey")(function* (idToken: Redacted.Redacted<string>) {
      const form = codexApiKeyExchangeForm(clientId, Redacted.value(idToken))
      const answer = yield* send("exchange", postForm(endpoints.token, form))
      if (!isOk(answer.status)) return yield* classify("exchange", answer)
      const { value } = yield* decode("exchange", ApiKeyExchangeResponse, answer)
      return Redacted.make(value.access_token)
    })

    return loginFlowOf(rules(issuer, clientId), {
      issuer,
      // codex's redirect carries no `iss`
      authorizeUrl: (request) =>
        Effect.succeed({ url: codexAuthorizeUrl({ issuer, clientId, ...request }), responseIss: Option.none() }),
      browserRedirect: codexBrowserRedirect,
      exchangeApiKey: Option.some(exchangeApiKey),
      start,
      poll,
      // codex cannot use a sign-in without a readable id_token (§5)
      complete: completeGrant({ issuer, pkce, exchange, claimsRequired: true })
    })
  })

/** Makes the Codex dialect's refresh and revoke over the ambient HttpClient (codex-protocol.md §8–§9). */
export const makeClient = (
  options: CodexIssuerOptions = {}
): Effect.Effect<IssuerClient["Type"], never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { classify, clientId, decode, endpoints, issuer, send } = yield* connect(options)
    const override = (name: string) =>
      Config.option(Config.string(name)).pipe(
        Effect.map(Option.filter((url) => url.trim() !== "")),
        Effect.orElseSucceed(() => Option.none<string>())
      )
    const refreshOverride = yield* override("CODEX_REFRESH_TOKEN_URL_OVERRIDE")
    const refreshUrl = Option.getOrElse(refreshOverride, () => endpoints.token)
    // §9: with only the refresh URL overridden, codex revokes at /oauth/revoke of the same origin
    const revokeUrl = Option.getOrElse(
      Option.orElse(yield* override("CODEX_REVOKE_TOKEN_URL_OVERRIDE"), () =>
        Option.flatMap(refreshOverride, revokeUrlFromRefreshUrl)
      ),
      () => endpoints.revoke
    )
    const withTokenHeaders = HttpClientRequest.setHeaders(tokenHeaders)

    const refresh = Effect.fn("CodexIssuer.refresh")(function* (
      refreshToken: Redacted.Redacted<string>,
      reason: RefreshReason = "proactive_expiry"
    ) {
      // §8: compact JSON with the keys sorted, no scope; a 401 carries the permanent refresh_token_* code
      const answer = yield* send(
        "refresh",
        postJson(refreshUrl, {
          client_id: clientId,
          grant_type: "refresh_token",
          refresh_reason: reason,
          refresh_token: Redacted.value(refreshToken)
        }).pipe(withTokenHeaders)
      )
      if (!isOk(answer.status)) return yield* classify("refresh", answer)
      const { value } = yield* decode("refresh", CodexRefreshFromWire, answer)
      return value
    })

    const revoke = Effect.fn("CodexIssuer.revoke")(function* (
      token: Redacted.Redacted<string>,
      hint: TokenTypeHint = "refresh_token"
    ) {
      // §9: best-effort, bounded by codex's 10 s
      const answer = yield* send(
        "revoke",
        postJson(revokeUrl, { token: Redacted.value(token), token_type_hint: hint, client_id: clientId }).pipe(
          withTokenHeaders
        ),
        Schedules.revokeBound
      )
      if (!isOk(answer.status)) return yield* classify("revoke", answer)
    })

    return issuerClientOf(rules(issuer, clientId), { issuer, refresh, revoke })
  })

/** The Codex dialect's device login as the LoginFlow service. */
export const layer = (options: CodexIssuerOptions = {}): Layer.Layer<LoginFlow, never, HttpClient.HttpClient | Pkce> =>
  Layer.effect(LoginFlow, makeLoginFlow(options))

/** The Codex dialect's refresh and revoke as the IssuerClient service. */
export const layerClient = (
  options: CodexIssuerOptions = {}
): Layer.Layer<IssuerClient, never, HttpClient.HttpClient> => Layer.effect(IssuerClient, makeClient(options))
